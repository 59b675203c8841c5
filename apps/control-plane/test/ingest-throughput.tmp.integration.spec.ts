import { PROTOCOL_VERSION, TopicScheme } from '@emofleet/protocol';
import { connectAsync, type MqttClient } from 'mqtt';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { EventIngestCounters } from '../src/events/event-ingest-counters';
import { TelemetryIngestCounters } from '../src/telemetry/telemetry-ingest-counters';
import { event } from './support/event-device';
import { eventually } from './support/eventually';
import { createTestDatabase, testConfig, testServices } from './support/test-environment';

describe('ingest throughput (temporary measurement)', () => {
  let controlPlane: RunningControlPlane;
  let topics: TopicScheme;
  const clients: MqttClient[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('external-services', { DATABASE_URL: database.url });
    cleanups.push(test.cleanup);
    topics = new TopicScheme(test.topicPrefix);
    controlPlane = await startControlPlane(test.config, () => undefined);
    for (let i = 0; i < 10; i++) clients.push(await connectAsync(testServices.mqttUrl, { protocolVersion: 5 }));
  }, 30_000);

  afterAll(async () => {
    for (const client of clients) await client.endAsync();
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('events', async () => {
    const counters = controlPlane.app.get(EventIngestCounters);
    const devices = 20;
    const batches = 20;
    const started = Date.now();
    const sends: Array<Promise<unknown>> = [];
    for (let b = 0; b < batches; b++) {
      for (let d = 0; d < devices; d++) {
        const deviceId = `bench-${d}`;
        const events = Array.from({ length: 500 }, (_, i) => event(b * 500 + i + 1));
        const client = clients[d % clients.length]!;
        sends.push(client.publishAsync(topics.topicFor({ kind: 'events', deviceId }), JSON.stringify({ v: PROTOCOL_VERSION, deviceId, events }), { qos: 1 }));
      }
    }
    await Promise.all(sends);
    await eventually(() => Promise.resolve(counters.eventsStored), (n) => n === devices * batches * 500, { timeoutMs: 120_000, intervalMs: 100 });
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(`EVENTS: ${counters.eventsStored} in ${seconds.toFixed(2)} s = ${(counters.eventsStored / seconds).toFixed(0)} events/s, acks ${counters.acksPublished}\n`);
  }, 150_000);

  it('telemetry', async () => {
    const counters = controlPlane.app.get(TelemetryIngestCounters);
    const devices = 2000;
    const windows = 10;
    const base = Date.now() - 60_000;
    const started = Date.now();
    const sends: Array<Promise<unknown>> = [];
    for (let w = 0; w < windows; w++) {
      for (let d = 0; d < devices; d++) {
        const deviceId = `bench-t-${d}`;
        const message = { v: PROTOCOL_VERSION, deviceId, windowStart: base + w * 1000, windowMs: 1000, framesProcessed: 10, framesDropped: 0, fps: 10, latencyMs: { p50: 50, p95: 60, p99: 70 }, cpuPercent: 30, rssBytes: 1e8, temperaturesC: { cpu: 40 }, gpu: null, modelId: 'fer', accuracy: 0.8, spool: { depth: 0, droppedTotal: 0 } };
        sends.push(clients[d % clients.length]!.publishAsync(topics.topicFor({ kind: 'telemetry', deviceId }), JSON.stringify(message), { qos: 0 }));
      }
    }
    await Promise.all(sends);
    await eventually(() => Promise.resolve(counters.samplesStored), (n) => n === devices * windows, { timeoutMs: 120_000, intervalMs: 100 });
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(`TELEMETRY: ${counters.samplesStored} in ${seconds.toFixed(2)} s = ${(counters.samplesStored / seconds).toFixed(0)} msg/s, flushes ${counters.flushes}, received ${counters.samplesReceived}\n`);
  }, 150_000);
});
