import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { connectAsync, type MqttClient } from 'mqtt';
import { encodeMessage, TopicScheme } from '@emofleet/protocol';
import { DeviceConnection, silentLogger, type InboundMessage } from '../src';
import { PrivateBroker } from './support/private-broker';
import { testBirth } from './support/test-birth';
import { until } from './support/wait';

jest.setTimeout(30_000);

const execFileAsync = promisify(execFile);
const SHIPPED_ACL = path.resolve(__dirname, '../../infra/mosquitto/acl');

/**
 * The invariant "a device can only touch its own topics", checked against a private mosquitto that runs the
 * shipped ACL (infra/mosquitto/acl) with per-device passwords.
 */
describe('the shipped broker ACL confines a device to its own topics', () => {
  const topics = new TopicScheme();
  let directory: string;
  let broker: PrivateBroker;
  let controlPlane: MqttClient;
  const received: { topic: string; payload: Buffer }[] = [];

  let controlPlaneUser: string;

  beforeAll(async () => {
    // The control plane's account is the (only) `user` section of the shipped ACL.
    const userLine = /^user (\S+)$/m.exec(await fs.readFile(SHIPPED_ACL, 'utf8'));
    if (userLine?.[1] === undefined) throw new Error(`${SHIPPED_ACL} names no control-plane user`);
    controlPlaneUser = userLine[1];
    directory = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-acl-'));
    const passwordFile = path.join(directory, 'passwords');
    await execFileAsync('mosquitto_passwd', ['-b', '-c', passwordFile, 'device-a', 'secret-a']);
    await execFileAsync('mosquitto_passwd', ['-b', passwordFile, 'device-b', 'secret-b']);
    await execFileAsync('mosquitto_passwd', ['-b', passwordFile, controlPlaneUser, 'secret-cp']);
    broker = await PrivateBroker.create({ passwordFile, aclFile: SHIPPED_ACL });
    await broker.start();
    controlPlane = await connectAsync(broker.url, {
      clientId: 'control-plane-test',
      username: controlPlaneUser,
      password: 'secret-cp',
    });
    controlPlane.on('message', (topic, payload) => received.push({ topic, payload }));
    await controlPlane.subscribeAsync(`${topics.prefix}/#`, { qos: 1 });
  });

  afterAll(async () => {
    await controlPlane.endAsync();
    await broker.dispose();
    await fs.rm(directory, { recursive: true, force: true });
  });

  function deviceConnection(deviceId: string, secret: string): DeviceConnection {
    return new DeviceConnection({
      url: broker.url,
      deviceId,
      secret,
      dataDir: path.join(directory, deviceId),
      topics,
      protocolVersion: 4,
      keepaliveSeconds: 5,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      birth: testBirth,
      logger: silentLogger,
    });
  }

  it('lets a device announce itself and receive its own desired state, and nothing of another device', async () => {
    const deviceA = deviceConnection('device-a', 'secret-a');
    const desiredSeenByA: InboundMessage<'desired'>[] = [];
    deviceA.onMessage('desired', (inbound) => {
      desiredSeenByA.push(inbound);
    });
    deviceA.start();
    try {
      await until(() => deviceA.status === 'online', 'device-a online', 5000);
      await until(
        () =>
          received.some(
            (message) => message.topic === topics.topicFor({ kind: 'birth', deviceId: 'device-a' }),
          ),
        'the control plane receiving device-a birth',
      );

      const desired = (deviceId: string, desiredVersion: number) =>
        encodeMessage('desired', {
          v: 1,
          deviceId,
          desiredVersion,
          issuedAt: Date.now(),
          model: null,
          healthCheck: null,
          rolloutId: null,
        });
      await controlPlane.publishAsync(
        topics.topicFor({ kind: 'desired', deviceId: 'device-b' }),
        desired('device-b', 1),
        {
          qos: 1,
        },
      );
      await controlPlane.publishAsync(
        topics.topicFor({ kind: 'desired', deviceId: 'device-a' }),
        desired('device-a', 2),
        {
          qos: 1,
        },
      );
      await until(() => desiredSeenByA.length > 0, 'device-a receiving its desired state');
      expect(desiredSeenByA.map((inbound) => inbound.message.deviceId)).toEqual(['device-a']);
    } finally {
      await deviceA.stop();
    }
  });

  it("drops a device's publishes to another device's topics and its subscriptions to them", async () => {
    const intruder = await connectAsync(broker.url, {
      clientId: 'device-a',
      username: 'device-a',
      password: 'secret-a',
    });
    const overheard: string[] = [];
    intruder.on('message', (topic) => overheard.push(topic));
    try {
      const forgedTelemetryTopic = topics.topicFor({ kind: 'telemetry', deviceId: 'device-b' });
      const forgedEventsTopic = topics.topicFor({ kind: 'events', deviceId: 'device-b' });
      await intruder.subscribeAsync(topics.filterFor('desired', 'device-b'), { qos: 1 });
      await intruder.subscribeAsync(`${topics.prefix}/devices/+/events`, { qos: 1 });
      await intruder.publishAsync(forgedTelemetryTopic, '{"forged":true}', { qos: 1 });
      await intruder.publishAsync(forgedEventsTopic, '{"forged":true}', { qos: 1 });
      await controlPlane.publishAsync(topics.topicFor({ kind: 'desired', deviceId: 'device-b' }), '{"v":1}', {
        qos: 1,
      });
      await controlPlane.publishAsync(forgedEventsTopic, '{"probe":true}', { qos: 1 });
      // A marker the control plane publishes last: once it arrived there, everything before it was routed.
      const marker = topics.topicFor({ kind: 'events-ack', deviceId: 'device-a' });
      await intruder.subscribeAsync(marker, { qos: 1 });
      await controlPlane.publishAsync(marker, '{"marker":true}', { qos: 1 });
      await until(() => overheard.includes(marker), 'the marker');

      expect(received.map((message) => message.topic)).not.toContain(forgedTelemetryTopic);
      expect(received.filter((message) => message.payload.toString().includes('forged'))).toEqual([]);
      expect(overheard).toEqual([marker]);
    } finally {
      await intruder.endAsync();
    }
  });
});
