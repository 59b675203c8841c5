import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeMessage, TopicScheme, type DeviceCapabilities } from '@emofleet/protocol';
import { FakeClient, FakeScheduler } from '../../test/support/fake-mqtt';
import { settle, until } from '../../test/support/wait';
import { silentLogger } from '../logger';
import {
  DeviceConnection,
  DeviceOfflineError,
  type ConnectionStatus,
  type InboundMessage,
} from './device-connection';

const DEVICE = 'unit-device-1';
const capabilities: DeviceCapabilities = {
  arch: 'arm64',
  os: { platform: 'linux', release: '4.9.253-tegra' },
  cpuCores: 4,
  memoryBytes: 4_000_000_000,
  detectorBackends: ['tensorrt'],
  simulated: true,
};

describe('DeviceConnection (fake broker)', () => {
  const topics = new TopicScheme('unit/v1');
  let dataDir: string;
  let clients: FakeClient[];
  let scheduler: FakeScheduler;
  let clock: number;
  let connection: DeviceConnection;
  let statuses: ConnectionStatus[];
  const backoffAttempts: number[] = [];

  const latestClient = (): FakeClient => {
    const client = clients[clients.length - 1];
    if (client === undefined) throw new Error('no client was created');
    return client;
  };
  /** Waits for the connection to create its next client (one per connect attempt). */
  const nextClient = async (): Promise<FakeClient> => {
    const count = clients.length;
    await until(() => clients.length > count, `client #${count + 1}`);
    return latestClient();
  };
  const online = () => until(() => connection.status === 'online', 'status online');

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-conn-'));
    clients = [];
    scheduler = new FakeScheduler();
    clock = 1_000_000;
    backoffAttempts.length = 0;
    connection = new DeviceConnection({
      url: 'mqtt://broker.invalid:1883',
      deviceId: DEVICE,
      secret: 'device-secret',
      dataDir,
      topics,
      protocolVersion: 4,
      keepaliveSeconds: 10,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
      stableConnectionMs: 5_000,
      birth: () => ({ agentVersion: '1.2.3', capabilities, runningModel: null }),
      logger: silentLogger,
      createClient: (url, options) => {
        const client = new FakeClient(url, options);
        clients.push(client);
        return client;
      },
      backoff: {
        delayForAttempt: (attempt) => {
          backoffAttempts.push(attempt);
          return 100 * (attempt + 1);
        },
      },
      scheduler,
      now: () => clock,
    });
    statuses = [];
    connection.onStatusChange((status) => statuses.push(status));
  });

  afterEach(async () => {
    await connection.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  async function startOnline(): Promise<FakeClient> {
    connection.start();
    const client = await nextClient();
    client.acceptConnection();
    await online();
    return client;
  }

  it('connects as the device with the secret, a retained offline will with bdSeq, and no mqtt.js reconnects', async () => {
    connection.start();
    const { options, url } = await nextClient();
    expect(url).toBe('mqtt://broker.invalid:1883');
    expect(options).toMatchObject({
      clientId: DEVICE,
      username: DEVICE,
      password: 'device-secret',
      protocolVersion: 4,
      clean: true,
      keepalive: 10,
      reconnectPeriod: 0,
    });
    expect(options.will).toMatchObject({ topic: `unit/v1/devices/${DEVICE}/state`, qos: 1, retain: true });
    expect(JSON.parse(String(options.will?.payload))).toEqual({
      v: 1,
      deviceId: DEVICE,
      state: 'offline',
      bdSeq: 1_000_000,
      timestamp: 1_000_000,
    });
  });

  it('subscribes to its topics, then publishes birth and online with the will bdSeq', async () => {
    const client = await startOnline();
    expect(client.subscribed).toEqual([
      `unit/v1/devices/${DEVICE}/state`,
      `unit/v1/devices/${DEVICE}/desired`,
      `unit/v1/devices/${DEVICE}/jobs/notify-next`,
      `unit/v1/devices/${DEVICE}/jobs/+/update/response`,
      `unit/v1/devices/${DEVICE}/events/ack`,
    ]);
    expect(client.published.map((p) => [p.topic.split('/').pop(), p.qos, p.retain])).toEqual([
      ['birth', 1, true],
      ['state', 1, true],
    ]);
    expect(client.messagesOn('birth')[0]).toMatchObject({
      bdSeq: 1_000_000,
      agentVersion: '1.2.3',
      capabilities,
    });
    expect(client.messagesOn('state')[0]).toMatchObject({ state: 'online', bdSeq: 1_000_000 });
    expect(statuses).toEqual(['connecting', 'online']);
  });

  it('reconnects after a drop with growing backoff and a new bdSeq per attempt', async () => {
    const first = await startOnline();
    first.dropConnection();
    expect(connection.status).toBe('waiting-to-reconnect');
    expect(scheduler.requestedDelays).toEqual([100]);

    scheduler.fireNext();
    (await nextClient()).dropConnection();
    scheduler.fireNext();
    (await nextClient()).dropConnection();
    expect(backoffAttempts).toEqual([0, 1, 2]);
    expect(scheduler.requestedDelays).toEqual([100, 200, 300]);

    scheduler.fireNext();
    const last = await nextClient();
    last.acceptConnection();
    await online();
    expect(
      clients.map((c) => (JSON.parse(String(c.options.will?.payload)) as { bdSeq: number }).bdSeq),
    ).toEqual([1_000_000, 1_000_001, 1_000_002, 1_000_003]);
    expect(last.messagesOn('birth')[0]).toMatchObject({ bdSeq: 1_000_003 });
    expect(first.ended).toBe(true);
  });

  it('resets the backoff only after a connection that stayed up for the stable period', async () => {
    const first = await startOnline();
    first.dropConnection();
    scheduler.fireNext();
    (await nextClient()).acceptConnection();
    await online();
    clock += 1_000;
    latestClient().dropConnection();
    expect(backoffAttempts).toEqual([0, 1]);

    scheduler.fireNext();
    (await nextClient()).acceptConnection();
    await online();
    clock += 5_000;
    latestClient().dropConnection();
    expect(backoffAttempts).toEqual([0, 1, 0]);
  });

  it('keeps retrying when the broker refuses connections', async () => {
    connection.start();
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const client = await nextClient();
      client.emit('error', new Error('connect ECONNREFUSED'));
      client.dropConnection();
      scheduler.fireNext();
    }
    expect(backoffAttempts).toEqual([0, 1, 2, 3]);
  });

  it('stops cleanly: publishes a retained offline state with the session bdSeq, disconnects, cancels retries', async () => {
    const client = await startOnline();
    await connection.stop();
    const states = client.messagesOn('state');
    expect(states[states.length - 1]).toMatchObject({ state: 'offline', bdSeq: 1_000_000 });
    expect(client.published[client.published.length - 1]).toMatchObject({ retain: true, qos: 1 });
    expect(client.ended).toBe(true);
    expect(scheduler.pendingCount).toBe(0);
    expect(connection.status).toBe('stopped');
    expect(clients).toHaveLength(1);
  });

  it('publishes offline last when stopped while it is still announcing the session', async () => {
    connection.start();
    const client = await nextClient();
    client.holdPublishes = true;
    client.acceptConnection();
    await until(() => client.published.length === 1, 'the birth publish');
    const stopped = connection.stop();
    client.releasePublishes();
    await stopped;
    expect(client.messagesOn('state').map((state) => state.state)).toEqual(['online', 'offline']);
    expect(connection.status).toBe('stopped');
  });

  it('waits on stop for a connect attempt still persisting its bdSeq, then creates no client', async () => {
    connection.start();
    await connection.stop();
    expect(await fs.readdir(dataDir)).toEqual(['connection-session.json']);
    expect(clients).toHaveLength(0);
    expect(connection.status).toBe('stopped');
  });

  it('cancels a pending reconnect on stop', async () => {
    const client = await startOnline();
    client.dropConnection();
    expect(scheduler.pendingCount).toBe(1);
    await connection.stop();
    expect(scheduler.pendingCount).toBe(0);
    expect(client.messagesOn('state').filter((s) => s.state === 'offline')).toHaveLength(0);
  });

  it('publishes validated messages while online and refuses them while offline', async () => {
    const telemetry = {
      v: 1 as const,
      deviceId: DEVICE,
      windowStart: 1,
      windowMs: 5000,
      framesProcessed: 0,
      framesDropped: 0,
      fps: 0,
      latencyMs: null,
      cpuPercent: 1,
      rssBytes: 1,
      temperaturesC: {},
      gpu: null,
      modelId: null,
      accuracy: null,
      spool: { depth: 0, droppedTotal: 0 },
    };
    await expect(connection.publish('telemetry', telemetry)).rejects.toThrow(DeviceOfflineError);
    const client = await startOnline();
    await connection.publish('telemetry', telemetry);
    expect(client.published[client.published.length - 1]).toMatchObject({
      topic: `unit/v1/devices/${DEVICE}/telemetry`,
      qos: 0,
      retain: false,
    });
    await expect(connection.publish('telemetry', { ...telemetry, fps: -1 })).rejects.toThrow('fps:');
    await expect(connection.publish('telemetry', { ...telemetry, deviceId: 'someone-else' })).rejects.toThrow(
      'as "unit-device-1"',
    );
  });

  it('hands valid inbound messages to handlers, and counts and drops invalid ones', async () => {
    const client = await startOnline();
    const acks: InboundMessage<'events-ack'>[] = [];
    connection.onMessage('events-ack', (inbound) => {
      acks.push(inbound);
    });
    const ackTopic = `unit/v1/devices/${DEVICE}/events/ack`;
    const ack = { v: 1 as const, deviceId: DEVICE, highestContiguousSeq: 17, timestamp: 5 };
    client.deliver(ackTopic, encodeMessage('events-ack', ack), true);
    client.deliver(ackTopic, '{"v":1,"deviceId":"unit-device-1","highestContiguousSeq":-4,"timestamp":5}');
    client.deliver(ackTopic, '');
    expect(acks).toEqual([{ kind: 'events-ack', message: ack, retained: true }]);
    expect(connection.rejections.snapshot().byKindAndReason).toEqual({ 'events-ack/schema-violation': 1 });
  });

  it('survives a throwing handler', async () => {
    const client = await startOnline();
    connection.onMessage('events-ack', () => {
      throw new Error('handler bug');
    });
    const seen: number[] = [];
    connection.onMessage('events-ack', (inbound) => {
      seen.push(inbound.message.highestContiguousSeq);
    });
    const ack = { v: 1 as const, deviceId: DEVICE, highestContiguousSeq: 3, timestamp: 5 };
    client.deliver(`unit/v1/devices/${DEVICE}/events/ack`, encodeMessage('events-ack', ack));
    expect(seen).toEqual([3]);
  });

  it('republishes online when a stale will of an older session overwrites the retained state', async () => {
    const client = await startOnline();
    const stateTopic = `unit/v1/devices/${DEVICE}/state`;
    const staleWill = {
      v: 1 as const,
      deviceId: DEVICE,
      state: 'offline' as const,
      bdSeq: 999_999,
      timestamp: 1,
    };
    client.deliver(stateTopic, encodeMessage('state', staleWill), true);
    await settle();
    expect(client.messagesOn('state')).toHaveLength(1);

    client.deliver(stateTopic, encodeMessage('state', staleWill), false);
    await settle();
    const states = client.messagesOn('state');
    expect(states).toHaveLength(2);
    expect(states[1]).toMatchObject({ state: 'online', bdSeq: 1_000_000 });
  });
});
