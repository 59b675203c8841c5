/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { Queue } from 'bullmq';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { PipelineQueue } from '../src/pipeline/pipeline-queues';
import { eventually } from './support/eventually';
import { createTestDatabase, testConfig, testServices } from './support/test-environment';

const MODELS = join(__dirname, '../../../libs/darknet/models');
const CFG = readFileSync(join(MODELS, 'yolov2-tiny-expression.cfg'), 'utf8');
const NETWORK = parseCfg(CFG, 'yolov2-tiny-expression.cfg');
const WEIGHTS = Buffer.from(serialiseWeights(NETWORK, randomWeights(NETWORK, 7)));
const ADMIN_TOKEN = `emf_test_admin_${'r'.repeat(40)}`;

interface JobView {
  status: string;
  attempts: number;
  logs: string[];
  failedReason: string | null;
}

/**
 * Separate api and worker processes (roles) sharing PostgreSQL, Redis, MQTT and the artifact directory: the api
 * records and enqueues a convert job while no worker runs; Redis then loses the job; a worker started afterwards
 * re-queues it from `pipeline_jobs` and runs it exactly once.
 */
describe('pipeline state survives Redis losing a job and a worker starting later', () => {
  const running: RunningControlPlane[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  afterAll(async () => {
    for (const controlPlane of running) await controlPlane.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  it('re-queues the unfinished convert job from the database and runs it once', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const shared = { DATABASE_URL: database.url, EMOFLEET_ADMIN_TOKEN: ADMIN_TOKEN };
    const apiSetup = testConfig('external-services', { ...shared, EMOFLEET_ROLE: 'api' });
    cleanups.push(apiSetup.cleanup);
    const api = await startControlPlane(apiSetup.config, () => undefined);
    running.push(api);

    const form = new FormData();
    form.append('cfg', new Blob([CFG]), 'tiny.cfg');
    form.append('weights', new Blob([WEIGHTS]), 'tiny.weights');
    form.append('names', new Blob([readFileSync(join(MODELS, 'expressions.names'))]), 'expressions.names');
    const response = await fetch(`${api.httpUrl}/models/resumed/versions`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(201);
    const { jobId } = (await response.json()) as { jobId: string };

    // Redis forgets everything about the queue (flush, failover to an empty replica...).
    const queue = new Queue(PipelineQueue.Convert, {
      connection: { url: testServices.redisUrl },
      prefix: apiSetup.config.queuePrefix,
    });
    expect(await queue.getJob(jobId)).toBeDefined();
    await queue.obliterate({ force: true });
    expect(await queue.getJob(jobId)).toBeUndefined();
    await queue.close();

    const workerSetup = testConfig('external-services', {
      ...shared,
      EMOFLEET_ROLE: 'worker',
      EMOFLEET_DATA_DIR: apiSetup.dataDir,
      QUEUE_PREFIX: apiSetup.config.queuePrefix,
      MQTT_TOPIC_PREFIX: apiSetup.topicPrefix,
    });
    cleanups.push(workerSetup.cleanup);
    running.push(await startControlPlane(workerSetup.config, () => undefined));

    const get = async () =>
      (await (
        await fetch(`${api.httpUrl}/jobs/${jobId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      ).json()) as JobView;
    const finished = await eventually(get, (job) => job.status === 'failed' || job.status === 'completed', {
      timeoutMs: 60_000,
      what: 'resumed convert job finished',
    });
    // The step ran once: one attempt, one load of the model, one export of each format.
    expect(finished.status).toBe('completed');
    expect(finished.attempts).toBe(1);
    expect(finished.logs.filter((line) => line.startsWith('loading '))).toHaveLength(1);
    expect(finished.logs.filter((line) => line.startsWith('exported ONNX '))).toHaveLength(1);
  }, 90_000);
});
