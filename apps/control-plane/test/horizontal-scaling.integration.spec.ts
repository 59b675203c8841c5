/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NewEmotionEvent, startSimulation, type RunningSimulation } from '@emofleet/agent';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { Client } from 'pg';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { eventually } from './support/eventually';
import { authHeaders, createTestDatabase, testConfig, uniqueSuffix } from './support/test-environment';

const DEVICES = 12;
const EVENTS_PER_DEVICE = 25;
const MODELS = join(__dirname, '../../../libs/darknet/models');
const CFG = readFileSync(join(MODELS, 'yolov2-tiny-expression.cfg'), 'utf8');
const NETWORK = parseCfg(CFG, 'yolov2-tiny-expression.cfg');

const silentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child() {
    return silentLogger;
  },
};

const LABELS = ['Happiness', 'Sadness', 'Surprise', 'Anger'];

/** An event as the tracker spools it (without the sequence number the spool assigns). */
const syntheticEvent = (round: number): NewEmotionEvent => ({
  label: LABELS[round % LABELS.length] ?? 'Happiness',
  score: 0.6 + (round % 4) / 10,
  box: { x: 0.2, y: 0.2, width: 0.3, height: 0.3 },
  startedAt: Date.now(),
  durationMs: 1200,
  frameIndex: round * 30,
  modelId: 'synthetic',
  trackId: round,
});

/** Reads one counter from a replica's Prometheus text (`/metrics`). */
async function counter(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`, { headers: authHeaders() })).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} missing from ${httpUrl}/metrics`);
  return Number(line.slice(name.length + 1));
}

/**
 * Two api replicas and two workers on one Mosquitto (MQTT 5 shared subscriptions), one PostgreSQL and one Redis:
 * the replicas split device telemetry and events between them and store each exactly once; the workers split
 * pipeline jobs and run each once.
 */
describe('two api replicas and two workers on one broker', () => {
  const replicas: RunningControlPlane[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  let simulation: RunningSimulation | undefined;

  afterAll(async () => {
    await simulation?.stop();
    for (const replica of replicas) await replica.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('splits telemetry, events and jobs between replicas without losing or duplicating any', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const first = testConfig('external-services', { DATABASE_URL: database.url, EMOFLEET_ROLE: 'api' });
    cleanups.push(first.cleanup);
    const shared = {
      DATABASE_URL: database.url,
      QUEUE_PREFIX: first.config.queuePrefix,
      MQTT_TOPIC_PREFIX: first.topicPrefix,
      EMOFLEET_DATA_DIR: first.dataDir,
    };
    replicas.push(await startControlPlane(first.config, () => undefined));
    for (const role of ['api', 'worker', 'worker']) {
      const setup = testConfig('external-services', { ...shared, EMOFLEET_ROLE: role });
      cleanups.push(setup.cleanup);
      replicas.push(await startControlPlane(setup.config, () => undefined));
    }
    const apis = replicas.slice(0, 2).map((replica) => replica.httpUrl);
    const [apiA, apiB] = apis as [string, string];

    const idPrefix = `scale-${uniqueSuffix()}`;
    const agentData = mkdtempSync(join(tmpdir(), 'emofleet-scaling-'));
    cleanups.push(() => rmSync(agentData, { recursive: true, force: true }));
    simulation = await startSimulation({
      count: DEVICES,
      idPrefix,
      secret: 'unused-with-an-unmanaged-broker',
      mqttUrl: first.config.mqtt.url ?? '',
      topicPrefix: first.topicPrefix,
      mqttVersion: 5,
      dataDir: agentData,
      manifestPublicKey: null,
      fps: 10,
      expressionSeconds: 1,
      telemetryIntervalMs: 500,
      agentVersion: 'test',
      logger: silentLogger,
    });

    // Pipeline jobs, uploaded through both replicas while the devices report.
    const uploads: Array<{ id: string; jobId: string }> = [];
    for (const [index, api] of [apiA, apiB].entries()) {
      const form = new FormData();
      form.append('cfg', new Blob([CFG]), 'tiny.cfg');
      form.append('weights', new Blob([serialiseWeights(NETWORK, randomWeights(NETWORK, index + 1))]), 'w');
      form.append('names', new Blob([readFileSync(join(MODELS, 'expressions.names'))]), 'expressions.names');
      const response = await fetch(`${api}/models/scaled/versions`, {
        method: 'POST',
        body: form,
        headers: authHeaders(),
      });
      expect(response.status).toBe(201);
      uploads.push((await response.json()) as { id: string; jobId: string });
    }

    // Emotion events enter each agent's durable spool as the detection loop would put them there (a simulated
    // device runs its detector only once a model is installed); the agent's own publisher delivers them.
    const agents = simulation.agents;
    for (let round = 0; round < EVENTS_PER_DEVICE; round += 1) {
      for (const agent of agents) agent.spool.append(syntheticEvent(round));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Every event acknowledged (the ack follows the database commit), and both replicas did part of the work.
    await eventually(
      () => Promise.resolve(agents.map((agent) => agent.spool.stats.acknowledgedSeq)),
      (acknowledged) => acknowledged.every((seq) => seq === EVENTS_PER_DEVICE),
      { timeoutMs: 60_000, intervalMs: 250, what: 'every spooled event acknowledged' },
    );
    const telemetryReceived = await eventually(
      () => Promise.all(apis.map((api) => counter(api, 'emofleet_telemetry_samples_received_total'))),
      (counts) => counts.every((count) => count > 0),
      { timeoutMs: 30_000, intervalMs: 250, what: 'telemetry received by both replicas' },
    );
    expect(telemetryReceived).toHaveLength(2);
    await simulation.stop();
    const telemetryPublished = agents.reduce((sum, agent) => sum + agent.telemetry.published, 0);
    simulation = undefined;

    const db = new Client({ connectionString: database.url });
    await db.connect();
    cleanups.push(() => db.end());
    const stored = await db.query<{ device_id: string; count: string; max_seq: string }>(
      'select device_id, count(*) as count, max(seq) as max_seq from emotion_events group by device_id',
    );
    expect(stored.rows).toHaveLength(DEVICES);
    for (const row of stored.rows) {
      expect({ device: row.device_id, count: Number(row.count), maxSeq: Number(row.max_seq) }).toEqual({
        device: row.device_id,
        count: EVENTS_PER_DEVICE,
        maxSeq: EVENTS_PER_DEVICE,
      });
    }
    const storedByReplica = await Promise.all(
      apis.map((api) => counter(api, 'emofleet_events_stored_total')),
    );
    expect(storedByReplica.every((count) => count > 0)).toBe(true);
    expect(storedByReplica[0]! + storedByReplica[1]!).toBe(DEVICES * EVENTS_PER_DEVICE);
    // A shared subscription hands each publication to one replica: nothing arrived twice.
    const duplicates = await Promise.all(apis.map((api) => counter(api, 'emofleet_events_duplicate_total')));
    expect(duplicates).toEqual([0, 0]);

    const telemetry = await eventually(
      async () => {
        const received = await Promise.all(
          apis.map((api) => counter(api, 'emofleet_telemetry_samples_received_total')),
        );
        const rows = await db.query<{ count: string }>('select count(*) as count from telemetry_samples');
        return { received, rows: Number(rows.rows[0]?.count) };
      },
      ({ received, rows }) => rows === received[0]! + received[1]!,
      { timeoutMs: 10_000, intervalMs: 250, what: 'telemetry received equals telemetry stored' },
    );
    expect(telemetry.rows).toBeLessThanOrEqual(telemetryPublished);
    expect(telemetry.received.every((count) => count > 0)).toBe(true);

    // Every pipeline job ran exactly once across the two workers.
    for (const upload of uploads) {
      await eventually(
        async () =>
          (await db.query<{ status: string }>('select status from model_versions where id = $1', [upload.id]))
            .rows[0]?.status,
        (status) => status === 'ready' || status === 'failed',
        { timeoutMs: 240_000, intervalMs: 500, what: `model version ${upload.id} through the pipeline` },
      );
    }
    const jobs = await db.query<{ id: string; status: string; attempts: number; logs: string[] }>(
      'select id, status, attempts, logs from pipeline_jobs order by id',
    );
    expect(jobs.rows).toHaveLength(uploads.length * 2);
    for (const job of jobs.rows) {
      expect({ id: job.id, status: job.status, attempts: job.attempts }).toEqual({
        id: job.id,
        status: 'completed',
        attempts: 1,
      });
      if (job.id.startsWith('convert-')) {
        expect(job.logs.filter((line) => line.startsWith('loading '))).toHaveLength(1);
      }
    }
  }, 360_000);
});
