import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeMessage, TopicScheme, type DeviceCapabilities } from '@emofleet/protocol';
import { DeviceConnection, silentLogger, type InboundMessage } from '../src';
import { spawnAgent } from './support/agent-process';
import { BrokerObserver, LOCAL_MOSQUITTO_URL, uniqueTopicPrefix } from './support/broker-observer';
import { until } from './support/wait';

jest.setTimeout(20_000);

const capabilities: DeviceCapabilities = {
  arch: process.arch,
  os: { platform: process.platform, release: os.release() },
  cpuCores: 2,
  memoryBytes: 1_000_000_000,
  detectorBackends: [],
  simulated: true,
};

describe('DeviceConnection against the local Mosquitto', () => {
  let prefix: string;
  let observer: BrokerObserver;
  let dataDir: string;
  const cleanups: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    prefix = uniqueTopicPrefix('connection');
    observer = await BrokerObserver.watch(LOCAL_MOSQUITTO_URL, prefix);
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-agent-it-'));
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await observer.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  function connectionFor(deviceId: string, protocolVersion: 4 | 5 = 4): DeviceConnection {
    const connection = new DeviceConnection({
      url: LOCAL_MOSQUITTO_URL,
      deviceId,
      secret: 'integration-secret',
      dataDir,
      topics: new TopicScheme(prefix),
      protocolVersion,
      keepaliveSeconds: 10,
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      birth: () => ({ agentVersion: '0.1.0', capabilities, runningModel: null }),
      logger: silentLogger,
    });
    cleanups.push(() => connection.stop());
    return connection;
  }

  it('publishes a retained birth and online state with the same bdSeq after connecting', async () => {
    const connection = connectionFor('it-device-1');
    connection.start();
    const online = await observer.waitFor('state', (state) => state.state === 'online');
    const birth = await observer.waitFor('birth', () => true);
    expect(birth).toMatchObject({ v: 1, deviceId: 'it-device-1', capabilities, runningModel: null });
    expect(online.bdSeq).toBe(birth.bdSeq);
    expect(online.bdSeq).toBe(connection.bdSeq);
    const stateTopic = `${prefix}/devices/it-device-1/state`;
    expect(await observer.retained(LOCAL_MOSQUITTO_URL, stateTopic)).toMatchObject({ state: 'online' });
    expect(await observer.retained(LOCAL_MOSQUITTO_URL, `${prefix}/devices/it-device-1/birth`)).toEqual(
      birth,
    );
  });

  it('leaves a retained offline state with the session bdSeq after a clean stop', async () => {
    const connection = connectionFor('it-device-2');
    connection.start();
    const online = await observer.waitFor('state', (state) => state.state === 'online');
    await connection.stop();
    const stateTopic = `${prefix}/devices/it-device-2/state`;
    expect(await observer.retained(LOCAL_MOSQUITTO_URL, stateTopic)).toMatchObject({
      state: 'offline',
      bdSeq: online.bdSeq,
    });
  });

  it('receives retained and live messages for the device, and counts invalid ones', async () => {
    const ackTopic = `${prefix}/devices/it-device-3/events/ack`;
    const ack = { v: 1 as const, deviceId: 'it-device-3', highestContiguousSeq: 7, timestamp: Date.now() };
    await observer.publish(ackTopic, encodeMessage('events-ack', ack), true);
    const connection = connectionFor('it-device-3');
    const received: InboundMessage<'events-ack'>[] = [];
    connection.onMessage('events-ack', (inbound) => {
      received.push(inbound);
    });
    connection.start();
    await until(() => received.length === 1, 'the retained ack');
    expect(received[0]).toEqual({ kind: 'events-ack', message: ack, retained: true });

    await observer.publish(ackTopic, '{"v":2}');
    await observer.publish(ackTopic, encodeMessage('events-ack', { ...ack, highestContiguousSeq: 9 }));
    await until(() => received.length === 2, 'the live ack');
    expect(received[1]).toMatchObject({ message: { highestContiguousSeq: 9 }, retained: false });
    expect(connection.rejections.count({ kind: 'events-ack', reason: 'unsupported-version' })).toBe(1);
  });

  it('speaks MQTT 5 when configured: telemetry carries its message expiry', async () => {
    const observer5 = await BrokerObserver.watch(LOCAL_MOSQUITTO_URL, prefix, 5);
    try {
      const connection = connectionFor('it-device-5', 5);
      connection.start();
      await until(() => connection.status === 'online', 'online over MQTT 5');
      await connection.publish('telemetry', {
        v: 1,
        deviceId: 'it-device-5',
        windowStart: Date.now(),
        windowMs: 5000,
        framesProcessed: 50,
        framesDropped: 1,
        fps: 10,
        latencyMs: { p50: 80, p95: 95, p99: 120 },
        cpuPercent: 150,
        rssBytes: 100_000_000,
        temperaturesC: { 'CPU-therm': 45 },
        gpu: null,
        modelId: null,
        accuracy: null,
        spool: { depth: 0, droppedTotal: 0 },
      });
      await observer5.waitFor('telemetry', (telemetry) => telemetry.fps === 10);
      // The broker forwards the remaining lifetime: 60 s minus the (tiny) time the message spent in it.
      const expiry = observer5.on('telemetry')[0]?.messageExpiryInterval;
      expect(expiry).toBeGreaterThanOrEqual(55);
      expect(expiry).toBeLessThanOrEqual(60);
      expect(observer5.on('birth')[0]?.messageExpiryInterval).toBeUndefined();
    } finally {
      await observer5.close();
    }
  });

  it('republishes online when a stale last will overwrites the retained state', async () => {
    const connection = connectionFor('it-device-4');
    connection.start();
    const online = await observer.waitFor('state', (state) => state.state === 'online');
    const stateTopic = `${prefix}/devices/it-device-4/state`;
    const staleBdSeq = (online.bdSeq as number) - 1;
    const staleWill = {
      v: 1 as const,
      deviceId: 'it-device-4',
      state: 'offline' as const,
      bdSeq: staleBdSeq,
      timestamp: 1,
    };
    await observer.publish(stateTopic, encodeMessage('state', staleWill), true);
    await until(
      () => observer.on('state').filter((message) => message.json?.state === 'online').length === 2,
      'a second online state',
    );
    expect(await observer.retained(LOCAL_MOSQUITTO_URL, stateTopic)).toMatchObject({
      state: 'online',
      bdSeq: online.bdSeq,
    });
  });
});

describe('the agent process against the local Mosquitto', () => {
  let prefix: string;
  let observer: BrokerObserver;
  let dataDir: string;

  beforeEach(async () => {
    prefix = uniqueTopicPrefix('agent-process');
    observer = await BrokerObserver.watch(LOCAL_MOSQUITTO_URL, prefix);
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-agent-proc-'));
  });

  afterEach(async () => {
    await observer.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const startAgent = (deviceId: string) =>
    spawnAgent(
      [
        'run',
        '--mqtt-url',
        LOCAL_MOSQUITTO_URL,
        '--device-id',
        deviceId,
        '--data-dir',
        dataDir,
        '--keepalive-seconds',
        '5',
      ],
      { EMOFLEET_DEVICE_SECRET: 'process-secret', EMOFLEET_TOPIC_PREFIX: prefix },
    );

  it('leaves the last will (retained offline, same bdSeq) when killed with SIGKILL', async () => {
    const agent = startAgent('proc-device-1');
    try {
      const online = await observer.waitFor('state', (state) => state.state === 'online', 15_000);
      agent.kill('SIGKILL');
      expect(await agent.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const will = await observer.waitFor('state', (state) => state.state === 'offline', 10_000);
      expect(will).toMatchObject({ deviceId: 'proc-device-1', bdSeq: online.bdSeq });
      const stateTopic = `${prefix}/devices/proc-device-1/state`;
      expect(await observer.retained(LOCAL_MOSQUITTO_URL, stateTopic)).toMatchObject({
        state: 'offline',
        bdSeq: online.bdSeq,
      });
    } finally {
      agent.kill('SIGKILL');
    }
  });

  it('shuts down gracefully on SIGTERM, and the next run uses the next bdSeq', async () => {
    const first = startAgent('proc-device-2');
    const online = await observer.waitFor('state', (state) => state.state === 'online', 15_000);
    first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    await observer.waitFor('state', (state) => state.state === 'offline' && state.bdSeq === online.bdSeq);
    // 'online' may not be logged yet: the agent logs it after the PUBACK of its online state, which can come
    // after the observer already saw that state and the test sent SIGTERM.
    expect(first.logLines().map((line) => line.message)).toEqual(
      expect.arrayContaining(['shutting down', 'stopped']),
    );

    const second = startAgent('proc-device-2');
    try {
      const nextBdSeq = (online.bdSeq as number) + 1;
      await observer.waitFor(
        'state',
        (state) => state.state === 'online' && state.bdSeq === nextBdSeq,
        15_000,
      );
      await observer.waitFor('birth', (birth) => birth.bdSeq === nextBdSeq);
    } finally {
      second.kill('SIGTERM');
      await second.exited;
    }
  });

  it('exits with status 2 and names every bad setting', async () => {
    const agent = spawnAgent(['run', '--mqtt-url', 'http://x', '--keepalive-seconds', 'often'], {
      EMOFLEET_DEVICE_ID: 'bad/id',
    });
    expect(await agent.exited).toEqual({ code: 2, signal: null });
    expect(agent.stderr).toContain('--mqtt-url / EMOFLEET_MQTT_URL: must be an mqtt://');
    expect(agent.stderr).toContain('--device-id / EMOFLEET_DEVICE_ID: device id may contain only');
    expect(agent.stderr).toContain('--secret / EMOFLEET_DEVICE_SECRET: is required');
    expect(agent.stderr).toContain(
      '--keepalive-seconds / EMOFLEET_KEEPALIVE_SECONDS: must be a whole number',
    );
  });

  it('prints help for run', async () => {
    const agent = spawnAgent(['run', '--help']);
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect(agent.stdout).toContain('Usage: emofleet-agent run [options]');
    expect(agent.stdout).toContain('--mqtt-url <value>');
  });
});
