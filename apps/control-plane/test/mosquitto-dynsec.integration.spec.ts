import { buildPublication, deviceSubscriptions, PROTOCOL_VERSION, TopicScheme } from '@emofleet/protocol';
import { ErrorWithSubackPacket, type MqttClient } from 'mqtt';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { apiRequest } from './support/api-request';
import { connectAsDevice, type Enrolment, enrolDevice } from './support/enrolment';
import { eventually } from './support/eventually';
import {
  dynsecPluginInstalled,
  type PrivateMosquitto,
  startDynsecMosquitto,
} from './support/private-mosquitto';
import {
  createTestDatabase,
  testConfig,
  uniqueSuffix,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from './support/test-environment';

interface DeviceView {
  id: string;
  capabilities: Record<string, unknown> | null;
}

const describeWithPlugin = dynsecPluginInstalled() ? describe : describe.skip;

describeWithPlugin('Mosquitto dynamic security (MQTT_DEVICE_CREDENTIALS=mosquitto-dynsec)', () => {
  let mosquitto: PrivateMosquitto;
  let controlPlane: RunningControlPlane;
  let topics: TopicScheme;
  let deviceA: Enrolment;
  let deviceB: Enrolment;
  const clients: MqttClient[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  const call = <T>(method: string, path: string) => apiRequest<T>(controlPlane.httpUrl, method, path);

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const topicPrefix = `emofleet-test-${uniqueSuffix()}/v1`;
    mosquitto = await startDynsecMosquitto(topicPrefix);
    cleanups.push(() => mosquitto.stop());
    topics = new TopicScheme(topicPrefix);
    const configured = testConfig('external-services', {
      DATABASE_URL: database.url,
      MQTT_TOPIC_PREFIX: topicPrefix,
      MQTT_URL: mosquitto.controlPlaneUrl,
      MQTT_DEVICE_CREDENTIALS: 'mosquitto-dynsec',
    });
    cleanups.push(configured.cleanup);
    controlPlane = await startControlPlane(configured.config, () => undefined);
    deviceA = await enrolDevice(controlPlane.httpUrl, 'dynsec A');
    deviceB = await enrolDevice(controlPlane.httpUrl, 'dynsec B');
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const client of clients) await client.endAsync(true);
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  const connect = async (enrolment: Enrolment, password?: string): Promise<MqttClient> => {
    const client = await connectAsDevice(enrolment, password === undefined ? {} : { password });
    clients.push(client);
    return client;
  };

  it('hands devices the broker URL without the control plane credentials', () => {
    expect(deviceA.mqttUrl).toBe(mosquitto.url);
  });

  it('creates a Mosquitto client per enrolled device that accepts only its own secret', async () => {
    const client = await connect(deviceA);
    expect(client.connected).toBe(true);
    await client.endAsync();
    await expect(connectAsDevice(deviceA, { password: deviceB.secret })).rejects.toThrow(
      /Not authorized|Bad user/,
    );
  });

  it("confines each device to its own topics: B's subscriptions are refused and forged publishes dropped", async () => {
    const a = await connect(deviceA);
    const b = await connect(deviceB);
    const theirs = deviceSubscriptions(topics, deviceB.deviceId).map((subscription) => subscription.topic);
    let granted: number[];
    try {
      granted = (await a.subscribeAsync(theirs, { qos: 1 })).map((grant) => grant.qos);
    } catch (error) {
      if (!(error instanceof ErrorWithSubackPacket)) throw error;
      granted = error.packet.granted.map((grant) =>
        typeof grant === 'number' ? grant : (grant as { qos: number }).qos,
      );
    }
    expect(granted).toEqual(theirs.map(() => 128));
    const ours = deviceSubscriptions(topics, deviceB.deviceId).map((subscription) => subscription.topic);
    expect((await b.subscribeAsync(ours, { qos: 1 })).map((grant) => grant.qos)).toEqual(ours.map(() => 1));

    // A publishes a state and a birth under B's id: Mosquitto drops both silently (MQTT 3.1.1).
    const received: string[] = [];
    b.on('message', (topic) => received.push(topic));
    const forgedState = buildPublication(
      topics,
      'state',
      { v: PROTOCOL_VERSION, deviceId: deviceB.deviceId, state: 'offline', bdSeq: 5, timestamp: Date.now() },
      4,
    );
    await a.publishAsync(forgedState.topic, forgedState.payload, { qos: 1 });
    const forgedBirth = buildPublication(
      topics,
      'birth',
      {
        v: PROTOCOL_VERSION,
        deviceId: deviceB.deviceId,
        bdSeq: 5,
        timestamp: Date.now(),
        agentVersion: '0.1.0',
        capabilities: {
          arch: 'x64',
          os: { platform: 'linux', release: '6.1' },
          cpuCores: 1,
          memoryBytes: 1,
          detectorBackends: [],
          simulated: true,
        },
        runningModel: null,
      },
      4,
    );
    await a.publishAsync(forgedBirth.topic, forgedBirth.payload, { qos: 1 });
    // B's own state does arrive (the control group): the subscription works, the forged one never came.
    const ownState = buildPublication(
      topics,
      'state',
      { v: PROTOCOL_VERSION, deviceId: deviceB.deviceId, state: 'online', bdSeq: 1, timestamp: Date.now() },
      4,
    );
    await b.publishAsync(ownState.topic, ownState.payload, { qos: 1 });
    await eventually(
      () => Promise.resolve(received.length),
      (count) => count >= 1,
      { what: "B's own state delivered" },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toEqual([ownState.topic]);
    expect((await call<DeviceView>('GET', `/devices/${deviceB.deviceId}`)).body.capabilities).toBeNull();
  });

  it('decommissioning deletes the Mosquitto client: the session ends and the device cannot reconnect', async () => {
    const client = await connect(deviceA);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    expect((await call('DELETE', `/devices/${deviceA.deviceId}`)).status).toBe(200);
    await closed;
    await expect(connectAsDevice(deviceA)).rejects.toThrow(/Not authorized|Bad user/);
    // B is untouched.
    expect((await connect(deviceB)).connected).toBe(true);
  });
});

if (!dynsecPluginInstalled()) {
  it.skip('Mosquitto dynamic security: skipped because /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so (Debian package mosquitto) is not installed', () =>
    undefined);
}
