import { KIND_DELIVERY, MESSAGE_KINDS, type MessageKind, TopicScheme } from '@emofleet/protocol';
import { connectAsync, ErrorWithSubackPacket, type IClientOptions, type MqttClient } from 'mqtt';
import { type RunningControlPlane, startControlPlane } from '../../src/control-plane';
import { connectAsDevice, type Enrolment, enrolDevice } from '../support/enrolment';
import { eventually } from '../support/eventually';
import { dynsecPluginInstalled, startDynsecMosquitto } from '../support/private-mosquitto';
import {
  createTestDatabase,
  testConfig,
  uniqueSuffix,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from '../support/test-environment';

/**
 * Every topic of the protocol x a foreign device, on both brokers that keep device accounts: device A may not
 * publish on any of device B's topics (whatever the kind), may not publish the cloud-to-device kinds on its
 * own topics (impersonating the control plane), and may not subscribe to any of B's topics or to wildcards
 * across devices. An observer with the control plane's account proves that no refused publish is delivered.
 */

type BrokerKind = 'embedded aedes' | 'Mosquitto dynamic security';

const JOB_ID = 'acl-matrix-job';
const CLOUD_TO_DEVICE = MESSAGE_KINDS.filter((kind) => KIND_DELIVERY[kind].direction === 'cloud-to-device');

const topicOf = (topics: TopicScheme, kind: MessageKind, deviceId: string): string =>
  kind === 'job-update' || kind === 'job-update-response'
    ? topics.topicFor({ kind, deviceId, jobId: JOB_ID })
    : topics.topicFor({ kind, deviceId });

/** The QoS the broker granted each filter (128 = refused); mqtt.js rejects a SUBACK with any refusal. */
async function grantedQos(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos: 1 })).map((grant) => grant.qos);
  } catch (error) {
    if (!(error instanceof ErrorWithSubackPacket)) throw error;
    return error.packet.granted.map((grant) =>
      typeof grant === 'number' ? grant : (grant as { qos: number }).qos,
    );
  }
}

const skipDynsec = !dynsecPluginInstalled();

describe.each<BrokerKind>(['embedded aedes', 'Mosquitto dynamic security'])(
  'topic ACL matrix on %s',
  (broker) => {
    const run = broker === 'Mosquitto dynamic security' && skipDynsec ? it.skip : it;
    let controlPlane: RunningControlPlane;
    let topics: TopicScheme;
    let deviceA: Enrolment;
    let deviceB: Enrolment;
    let observer: MqttClient;
    const delivered: string[] = [];
    const cleanups: Array<() => Promise<void> | void> = [];

    beforeAll(async () => {
      if (broker === 'Mosquitto dynamic security' && skipDynsec) return;
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      let observerOptions: { url: string; options: IClientOptions };
      if (broker === 'embedded aedes') {
        const test = testConfig('embedded', { DATABASE_URL: database.url });
        cleanups.push(test.cleanup);
        topics = new TopicScheme(test.topicPrefix);
        controlPlane = await startControlPlane(test.config, () => undefined);
        observerOptions = {
          url: controlPlane.infrastructure.mqttUrl,
          options: { ...controlPlane.infrastructure.mqttAccount },
        };
      } else {
        const topicPrefix = `emofleet-test-${uniqueSuffix()}/v1`;
        const mosquitto = await startDynsecMosquitto(topicPrefix);
        cleanups.push(() => mosquitto.stop());
        const test = testConfig('external-services', {
          DATABASE_URL: database.url,
          MQTT_TOPIC_PREFIX: topicPrefix,
          MQTT_URL: mosquitto.controlPlaneUrl,
          MQTT_DEVICE_CREDENTIALS: 'mosquitto-dynsec',
        });
        cleanups.push(test.cleanup);
        topics = new TopicScheme(topicPrefix);
        controlPlane = await startControlPlane(test.config, () => undefined);
        observerOptions = { url: mosquitto.controlPlaneUrl, options: {} };
      }
      deviceA = await enrolDevice(controlPlane.httpUrl, 'acl A');
      deviceB = await enrolDevice(controlPlane.httpUrl, 'acl B');
      observer = await connectAsync(observerOptions.url, {
        ...observerOptions.options,
        clientId: `acl-observer-${uniqueSuffix()}`,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      observer.on('message', (topic, payload) => delivered.push(`${topic} ${payload.toString()}`));
      await observer.subscribeAsync(`${topics.prefix}/#`, { qos: 1 });
    }, CONTROL_PLANE_START_TIMEOUT_MS);

    afterAll(async () => {
      await observer?.endAsync(true);
      await controlPlane?.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
    }, 30_000);

    /**
     * A publishes `payload` on `topic`, then (on the same connection if the broker kept it, else a new one) a marker
     * on its own telemetry topic; once the observer has the marker, answers whether `topic` was delivered too.
     * Mosquitto drops a refused PUBLISH silently; aedes closes the connection (reported as `closed`).
     */
    const attempt = async (topic: string): Promise<{ delivered: boolean; closed: boolean }> => {
      const payload = `forged-${uniqueSuffix()}`;
      const client = await connectAsDevice(deviceA);
      let closed = false;
      client.on('close', () => {
        closed = true;
      });
      await new Promise<void>((resolve) => {
        client.publish(topic, payload, { qos: 1 }, () => resolve());
        client.once('close', () => resolve());
      });
      const closedByBroker = closed;
      const markerClient = client.connected ? client : await connectAsDevice(deviceA);
      const marker = `marker-${uniqueSuffix()}`;
      const ownTelemetry = topics.topicFor({ kind: 'telemetry', deviceId: deviceA.deviceId });
      await markerClient.publishAsync(ownTelemetry, marker, { qos: 1 });
      await eventually(
        () => Promise.resolve(delivered),
        (seen) => seen.includes(`${ownTelemetry} ${marker}`),
        { timeoutMs: 10_000, what: `the marker after ${topic}` },
      );
      await markerClient.endAsync(true);
      if (markerClient !== client) await client.endAsync(true);
      return { delivered: delivered.includes(`${topic} ${payload}`), closed: closedByBroker };
    };

    run.each([...MESSAGE_KINDS])("refuses device A's publish on device B's %s topic", async (kind) => {
      const outcome = await attempt(topicOf(topics, kind, deviceB.deviceId));
      expect(outcome.delivered).toBe(false);
      if (broker === 'embedded aedes') expect(outcome.closed).toBe(true);
    });

    run.each([...CLOUD_TO_DEVICE])(
      'refuses device A publishing the cloud-to-device %s on its own topic',
      async (kind) => {
        const outcome = await attempt(topicOf(topics, kind, deviceA.deviceId));
        expect(outcome.delivered).toBe(false);
        if (broker === 'embedded aedes') expect(outcome.closed).toBe(true);
      },
    );

    run("delivers device A's own device-to-cloud publishes (the matrix's control group)", async () => {
      for (const kind of MESSAGE_KINDS.filter((candidate) => !CLOUD_TO_DEVICE.includes(candidate))) {
        const outcome = await attempt(topicOf(topics, kind, deviceA.deviceId));
        expect({ kind, ...outcome }).toEqual({ kind, delivered: true, closed: false });
      }
    });

    run(
      "refuses device A's subscriptions to every kind of device B's topics and to cross-device wildcards",
      async () => {
        const client = await connectAsDevice(deviceA);
        const filters = [
          ...MESSAGE_KINDS.map((kind) => topics.filterFor(kind, deviceB.deviceId)),
          ...MESSAGE_KINDS.map((kind) => topics.filterFor(kind)),
          `${topics.prefix}/#`,
          `${topics.prefix}/devices/${deviceB.deviceId}/#`,
          '#',
        ];
        const granted = await grantedQos(client, filters);
        expect(Object.fromEntries(filters.map((filter, index) => [filter, granted[index]]))).toEqual(
          Object.fromEntries(filters.map((filter) => [filter, 128])),
        );
        await client.endAsync(true);
      },
    );
  },
);
