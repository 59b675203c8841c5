import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { Client } from 'pg';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { eventually } from './support/eventually';
import { createTestDatabase, testConfig, testServices } from './support/test-environment';

const CONTROL_PLANE_MAIN = resolve(__dirname, '../dist/main.js');
const MODELS = join(__dirname, '../../../libs/darknet/models');
const CFG = readFileSync(join(MODELS, 'yolov2-tiny-expression.cfg'), 'utf8');
const NETWORK = parseCfg(CFG, 'yolov2-tiny-expression.cfg');
const WEIGHTS = Buffer.from(serialiseWeights(NETWORK, randomWeights(NETWORK, 11)));
const ADMIN_TOKEN = `emf_test_admin_${'k'.repeat(40)}`;

interface JobView {
  status: string;
  logs: string[];
  failedReason: string | null;
}

/**
 * A worker process is killed with SIGKILL in the middle of a conversion: BullMQ's lock on the job expires, a
 * second worker process takes the stalled job over, and the chain (convert → benchmark → ready) completes with
 * one convert result, one benchmark and one stored copy of every export.
 */
describe('a worker killed with SIGKILL mid-conversion', () => {
  let api: RunningControlPlane | undefined;
  const workers: ChildProcess[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  afterAll(async () => {
    for (const worker of workers) {
      if (worker.exitCode === null && worker.signalCode === null) {
        worker.kill('SIGTERM');
        await once(worker, 'exit');
      }
    }
    await api?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('is taken over by another worker and the chain finishes exactly once', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const apiSetup = testConfig('external-services', {
      DATABASE_URL: database.url,
      EMOFLEET_ADMIN_TOKEN: ADMIN_TOKEN,
      EMOFLEET_ROLE: 'api',
    });
    cleanups.push(apiSetup.cleanup);
    api = await startControlPlane(apiSetup.config, () => undefined);
    const httpUrl = api.httpUrl;

    // Worker processes share the api's database, Redis prefix, topic prefix and artifact directory.
    const startWorker = (): ChildProcess => {
      const worker = spawn(process.execPath, [CONTROL_PLANE_MAIN], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          EMOFLEET_ROLE: 'worker',
          HOST: '127.0.0.1',
          PORT: '0',
          DATABASE_URL: database.url,
          REDIS_URL: testServices.redisUrl,
          MQTT_URL: testServices.mqttUrl,
          QUEUE_PREFIX: apiSetup.config.queuePrefix,
          MQTT_TOPIC_PREFIX: apiSetup.topicPrefix,
          EMOFLEET_DATA_DIR: apiSetup.dataDir,
          EMOFLEET_ADMIN_TOKEN: ADMIN_TOKEN,
          EMOFLEET_DEMO: '0',
          LOG_LEVEL: 'warn',
        },
      });
      workers.push(worker);
      return worker;
    };
    const call = async <T>(path: string): Promise<T> =>
      (await (
        await fetch(`${httpUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      ).json()) as T;

    const form = new FormData();
    form.append('cfg', new Blob([CFG]), 'tiny.cfg');
    form.append('weights', new Blob([WEIGHTS]), 'tiny.weights');
    form.append('names', new Blob([readFileSync(join(MODELS, 'expressions.names'))]), 'expressions.names');
    const uploaded = await fetch(`${httpUrl}/models/killed/versions`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(uploaded.status).toBe(201);
    const {
      id: versionId,
      version: versionNumber,
      jobId,
    } = (await uploaded.json()) as {
      id: string;
      version: number;
      jobId: string;
    };

    const first = startWorker();
    // The conversion has started once the job logs that it loads the model.
    await eventually(
      () => call<JobView>(`/jobs/${jobId}`),
      (job) => job.status === 'completed' || job.logs.some((line) => line.startsWith('loading ')),
      { timeoutMs: 60_000, intervalMs: 20, what: 'convert job started by the first worker' },
    );
    first.kill('SIGKILL');
    await once(first, 'exit');
    const atKill = await call<JobView>(`/jobs/${jobId}`);
    // Killed mid-way: had the conversion already finished, this test would prove nothing.
    expect(atKill.status).not.toBe('completed');

    startWorker();
    const detail = await eventually(
      () => call<{ status: string; statusReason: string | null }>(`/models/killed/versions/${versionNumber}`),
      (detail) => detail.status === 'ready' || detail.status === 'failed',
      // BullMQ declares the job stalled once the dead worker's lock (30 s) lapses; the next stalled check moves it.
      { timeoutMs: 150_000, intervalMs: 500, what: 'model version ready after the takeover' },
    );
    expect(detail.statusReason).toBeNull();
    expect(detail.status).toBe('ready');

    const convert = await call<JobView>(`/jobs/${jobId}`);
    expect(convert.status).toBe('completed');
    expect(convert.failedReason).toBeNull();

    const db = new Client({ connectionString: database.url });
    await db.connect();
    cleanups.push(() => db.end());
    const jobs = await db.query<{ id: string; status: string }>(
      'select id, status from pipeline_jobs where version_id = $1 order by id',
      [versionId],
    );
    expect(jobs.rows).toEqual([
      { id: `benchmark-${versionId}`, status: 'completed' },
      { id: jobId, status: 'completed' },
    ]);
    const files = await db.query<{ role: string; copies: string }>(
      'select role, count(*) as copies from model_version_files where version_id = $1 group by role',
      [versionId],
    );
    expect(files.rows.length).toBeGreaterThan(0);
    for (const row of files.rows)
      expect({ role: row.role, copies: Number(row.copies) }).toEqual({ role: row.role, copies: 1 });
  }, 240_000);
});
