import { PROTOCOL_VERSION, type TelemetryMessage, TopicScheme } from '@emofleet/protocol';
import { type MqttClient } from 'mqtt';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { TelemetryMaintenanceService } from '../src/telemetry/telemetry-maintenance.service';
import { apiRequest } from './support/api-request';
import { connectAsDevice, enrolDevice } from './support/enrolment';
import { eventually } from './support/eventually';
import { removeScheduledQueues } from './support/queue-cleanup';
import {
  authHeaders,
  createTestDatabase,
  type TestMode,
  testConfig,
  uniqueSuffix,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from './support/test-environment';

interface FleetSeries {
  source: string;
  points: Array<{
    bucketStart: string;
    group: string | null;
    devices: number;
    fpsMean: number;
    fpsP50: number;
    fpsP10: number;
  }>;
}

interface DeviceSeries {
  source: string;
  points: Array<{
    bucketStart: string;
    samples: number;
    fpsMean: number;
    fpsMin: number;
    latencyP50Ms: number | null;
    latencyP99Ms: number | null;
    accuracy: number | null;
    cpuPercent: number;
    maxTemperatureC: number | null;
  }>;
}

const WINDOW_MS = 5000;

function telemetry(deviceId: string, windowStart: number, fps: number): TelemetryMessage {
  return {
    v: PROTOCOL_VERSION,
    deviceId,
    windowStart,
    windowMs: WINDOW_MS,
    framesProcessed: Math.round(fps * 5),
    framesDropped: 0,
    fps,
    latencyMs: { p50: 1000 / fps, p95: 1200 / fps, p99: 1500 / fps },
    cpuPercent: 50,
    rssBytes: 100_000_000,
    temperaturesC: { 'CPU-therm': 40 + fps, 'GPU-therm': 35 },
    gpu: null,
    modelId: fps > 8 ? 'fer-fast' : 'fer-base',
    accuracy: 0.8,
    spool: { depth: 0, droppedTotal: 0 },
  };
}

// Real services on a shared machine: allow for slow moments beyond jest's 5 s default.
jest.setTimeout(30_000);

describe.each<TestMode>(['external-services', 'embedded'])('telemetry with %s', (mode) => {
  let controlPlane: RunningControlPlane;
  let queuePrefix: string;
  let topics: TopicScheme;
  const clients: MqttClient[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  // A whole minute in the recent past (raw retention counts from real time); rolled up explicitly below.
  const minuteStart = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
  const range = `from=${new Date(minuteStart).toISOString()}&to=${new Date(minuteStart + 60_000).toISOString()}`;
  const fleet: Record<string, { id: string; client: MqttClient; fps: number }> = {};

  beforeAll(async () => {
    const overrides: Record<string, string> = { TELEMETRY_FLUSH_INTERVAL_MS: '100' };
    if (mode === 'external-services') {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      overrides.DATABASE_URL = database.url;
    }
    const test = testConfig(mode, overrides);
    cleanups.push(test.cleanup);
    queuePrefix = test.config.queuePrefix;
    topics = new TopicScheme(test.topicPrefix);
    controlPlane = await startControlPlane(test.config, () => undefined);
    const site = uniqueSuffix();
    for (const [name, tag, fps] of [
      ['a1', `a-${site}`, 6],
      ['a2', `a-${site}`, 10],
      ['b1', `b-${site}`, 4],
    ] as const) {
      const enrolment = await enrolDevice(controlPlane.httpUrl, `${name}-${site}`, { tags: { site: tag } });
      const client = await connectAsDevice(enrolment);
      clients.push(client);
      fleet[name] = { id: enrolment.deviceId, client, fps };
    }
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const client of clients) await client.endAsync();
    if (controlPlane) await removeScheduledQueues(controlPlane, queuePrefix);
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  const member = (name: string) => {
    const entry = fleet[name];
    if (!entry) throw new Error(`no device ${name}`);
    return entry;
  };

  const publish = async (name: string, windowStart: number, fps = member(name).fps) => {
    const { id, client } = member(name);
    await client.publishAsync(
      topics.topicFor({ kind: 'telemetry', deviceId: id }),
      JSON.stringify(telemetry(id, windowStart, fps)),
      { qos: 1 },
    );
  };

  const deviceSeries = async (name: string, query: string) =>
    (
      await apiRequest<DeviceSeries>(
        controlPlane.httpUrl,
        'GET',
        `/devices/${member(name).id}/telemetry?${query}`,
      )
    ).body;

  it('stores every window once, keeps the latest snapshot and serves per-device and fleet series', async () => {
    for (let i = 0; i < 6; i++) {
      for (const name of ['a1', 'a2', 'b1']) await publish(name, minuteStart + i * WINDOW_MS);
    }
    // A window received twice (redelivery, a second replica on MQTT 3.1.1) is stored once.
    await publish('a1', minuteStart);
    const series = await eventually(
      () => deviceSeries('a1', `${range}&bucket=30s`),
      (body) => body.points.reduce((sum, point) => sum + point.samples, 0) === 6,
      { timeoutMs: 15_000, what: 'six samples of a1' },
    );
    expect(series.source).toBe('raw');
    expect(series.points).toHaveLength(1);
    expect(series.points[0]).toMatchObject({
      samples: 6,
      fpsMean: 6,
      fpsMin: 6,
      cpuPercent: 50,
      maxTemperatureC: 46,
    });
    expect(series.points[0]?.latencyP50Ms).toBeCloseTo(1000 / 6);

    // The newest window of each device becomes its snapshot in the registry.
    await eventually(
      () =>
        apiRequest<{ lastTelemetry: { fps: number; windowStart: number } | null }>(
          controlPlane.httpUrl,
          'GET',
          `/devices/${member('b1').id}`,
        ),
      (response) =>
        response.body.lastTelemetry?.fps === 4 &&
        response.body.lastTelemetry.windowStart === minuteStart + 5 * WINDOW_MS,
      { timeoutMs: 15_000, what: 'the latest snapshot of b1' },
    );

    const site = await eventually(
      () =>
        apiRequest<FleetSeries>(
          controlPlane.httpUrl,
          'GET',
          `/telemetry/fleet?${range}&bucket=30s&groupBy=tag:site`,
        ),
      (response) => response.body.points.length === 2,
      { timeoutMs: 15_000, what: 'two site groups' },
    );
    const [groupA, groupB] = site.body.points;
    expect(groupA).toMatchObject({ devices: 2, fpsMean: 8, fpsP50: 8 });
    expect(groupA?.fpsP10).toBeCloseTo(6.4);
    expect(groupB).toMatchObject({ devices: 1, fpsMean: 4, fpsP50: 4, fpsP10: 4 });

    const byModel = await apiRequest<FleetSeries>(
      controlPlane.httpUrl,
      'GET',
      `/telemetry/fleet?${range}&bucket=1m&groupBy=model`,
    );
    expect(byModel.body.source).toBe('1m');
    // Nothing rolled up yet: the 1-minute roll-ups are written by the worker's job.
    await controlPlane.app.get(TelemetryMaintenanceService).rollUp(new Date(minuteStart + 90_000));
    const rolledUp = await apiRequest<FleetSeries>(
      controlPlane.httpUrl,
      'GET',
      `/telemetry/fleet?${range}&bucket=1m&groupBy=model`,
    );
    expect(rolledUp.body.points.map((p) => [p.group, p.devices, p.fpsMean])).toEqual([
      ['fer-base', 2, 5],
      ['fer-fast', 1, 10],
    ]);
    const minute = await deviceSeries('a2', `${range}&bucket=1m`);
    expect(minute.points).toEqual([expect.objectContaining({ samples: 6, fpsMean: 10 })]);
    expect(minute.points[0]?.accuracy).toBeCloseTo(0.8);
  });

  it('summarises the fleet and rejects malformed series requests', async () => {
    const summary = await apiRequest<{ devices: number; online: number }>(
      controlPlane.httpUrl,
      'GET',
      '/fleet/summary',
    );
    expect(summary.status).toBe(200);
    expect(summary.body.devices).toBeGreaterThanOrEqual(3);
    for (const query of [
      'bucket=5x',
      'bucket=1s&from=2020-01-01T00:00:00Z&to=2021-01-01T00:00:00Z',
      'groupBy=color',
    ]) {
      const response = await apiRequest(controlPlane.httpUrl, 'GET', `/telemetry/fleet?${query}`);
      expect(response.status).toBe(400);
    }
  });

  it('exports ingest counters, lag, devices online and queue depths for Prometheus', async () => {
    const { id, client } = member('b1');
    await client.publishAsync(topics.topicFor({ kind: 'telemetry', deviceId: id }), '{"v":1', { qos: 1 });
    const scrape = async () => {
      const response = await fetch(`${controlPlane.httpUrl}/metrics`, { headers: authHeaders() });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      return response.text();
    };
    const text = await eventually(scrape, (body) => body.includes('reason="invalid-json"'), {
      what: 'the rejected telemetry counted',
    });
    expect(text).toMatch(/^emofleet_protocol_rejections_total\{kind="telemetry",reason="invalid-json"\} 1$/m);
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
    expect(value(/^emofleet_telemetry_samples_stored_total (\d+)$/m)).toBe(18);
    expect(value(/^emofleet_telemetry_samples_received_total (\d+)$/m)).toBe(19);
    expect(value(/^emofleet_telemetry_ingest_lag_seconds ([\d.]+)$/m)).toBeGreaterThan(0);
    expect(text).toMatch(/^emofleet_events_stored_total 0$/m);
    expect(text).toMatch(/^emofleet_queue_jobs\{queue="telemetry-maintenance",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^emofleet_queue_jobs\{queue="model-convert",state="failed"\} \d+$/m);
    const anonymous = await fetch(`${controlPlane.httpUrl}/metrics`);
    expect(anonymous.status).toBe(401);
  });

  it('deletes samples and roll-ups past their retention', async () => {
    const maintenance = controlPlane.app.get(TelemetryMaintenanceService);
    await maintenance.applyRetention(new Date(minuteStart + 47 * 3_600_000));
    expect((await deviceSeries('a1', `${range}&bucket=30s`)).points).toHaveLength(1);
    await maintenance.applyRetention(new Date(minuteStart + 49 * 3_600_000));
    expect((await deviceSeries('a1', `${range}&bucket=30s`)).points).toHaveLength(0);
    expect((await deviceSeries('a1', `${range}&bucket=1m`)).points).toHaveLength(1);
  });
});
