/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  enrolDevice as enrolAgent,
  loadAgentConfig,
  runAgent,
  type RunningAgent,
  silentLogger,
  writeEnrolment,
} from '@emofleet/agent';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { apiRequest } from './support/api-request';
import { eventually } from './support/eventually';
import { removeScheduledQueues } from './support/queue-cleanup';
import { SMALL_CFG } from './support/small-model';
import { authHeaders, createTestDatabase, testConfig, uniqueSuffix } from './support/test-environment';

const NAMES = readFileSync(join(__dirname, '../../../libs/darknet/models/expressions.names'), 'utf8');
const NETWORK = parseCfg(SMALL_CFG, 'small-expression.cfg');
const weights = (seed: number) => Buffer.from(serialiseWeights(NETWORK, randomWeights(NETWORK, seed)));

interface JobView {
  jobId: string;
  status: string;
  statusDetails: { step?: string; reason?: string; modelId?: string; measuredFps?: number };
  updates: Array<{ status: string; step: string | null; source: string }>;
}
interface DeviceView {
  currentModel: { modelId: string; version: string } | null;
  desiredModel: { modelId: string; version: string } | null;
}

const TERMINAL = ['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED'];

/**
 * The real agent (agent/src: run-agent with the native detector) against the real control plane (PostgreSQL,
 * Redis, Mosquitto): enrolment, signed desired states, downloads with the device's own credentials, health
 * gates and rollback, all reported through the jobs protocol.
 */
describe('the agent reconciling against the real control plane', () => {
  let controlPlane: RunningControlPlane;
  let queuePrefix: string;
  let agent: RunningAgent | undefined;
  let agentDataDir: string;
  let deviceId: string;
  const model = `small-${uniqueSuffix()}`;
  const versionIds: string[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  const api = <T>(method: string, path: string, body?: unknown) =>
    apiRequest<T>(controlPlane.httpUrl, method, path, { body });

  async function uploadReadyVersion(seed: number): Promise<string> {
    const form = new FormData();
    form.append('cfg', new Blob([SMALL_CFG]), 'small-expression.cfg');
    form.append('weights', new Blob([weights(seed)]), 'small.weights');
    form.append('names', new Blob([NAMES]), 'expressions.names');
    const response = await fetch(`${controlPlane.httpUrl}/models/${model}/versions`, {
      method: 'POST',
      headers: authHeaders(),
      body: form,
    });
    const created = (await response.json()) as { id: string; version: number };
    expect(response.status).toBe(201);
    const ready = await eventually(
      () =>
        api<{ status: string; statusReason: string | null }>(
          'GET',
          `/models/${model}/versions/${created.version}`,
        ),
      (detail) => detail.body.status === 'ready' || detail.body.status === 'failed',
      { timeoutMs: 90_000, intervalMs: 250, what: `${model}@${created.version} through the pipeline` },
    );
    expect(ready.body).toMatchObject({ status: 'ready', statusReason: null });
    return created.id;
  }

  async function assign(modelVersionId: string, minFps: number): Promise<string> {
    const response = await api<{ jobId: string }>('PUT', `/devices/${deviceId}/desired-model`, {
      modelVersionId,
      healthCheck: { warmupFrames: 1, measureFrames: 5, minFps, minAccuracy: null },
      timeoutSeconds: 300,
    });
    expect(response.status).toBe(200);
    return response.body.jobId;
  }

  const finished = (jobId: string) =>
    eventually(
      async () => (await api<JobView>('GET', `/device-jobs/${jobId}`)).body,
      (job) => TERMINAL.includes(job.status),
      { timeoutMs: 60_000, intervalMs: 200, what: `job ${jobId} finished` },
    );
  const runningModelBecomes = (version: string | null) =>
    eventually(
      async () => (await api<DeviceView>('GET', `/devices/${deviceId}`)).body,
      (device) => (device.currentModel?.version ?? null) === version,
      { timeoutMs: 20_000, intervalMs: 200, what: `${deviceId} reporting version ${version} in its birth` },
    );

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('external-services', { DATABASE_URL: database.url });
    cleanups.push(test.cleanup);
    queuePrefix = test.config.queuePrefix;
    controlPlane = await startControlPlane(test.config, () => undefined);

    versionIds.push(await uploadReadyVersion(1), await uploadReadyVersion(2));

    // Enrolled the way `emofleet-agent enroll` does it: one-time token → identity, secret and pinned key.
    const token = await api<{ token: string }>('POST', '/enrolment-tokens', { name: 'reconcile agent' });
    expect(token.status).toBe(201);
    agentDataDir = mkdtempSync(join(tmpdir(), 'emofleet-reconcile-agent-'));
    cleanups.push(() => rmSync(agentDataDir, { recursive: true, force: true }));
    const record = await enrolAgent({
      server: controlPlane.httpUrl,
      token: token.body.token,
      name: 'reconcile',
    });
    writeEnrolment(agentDataDir, record);
    deviceId = record.deviceId;
    const config = await loadAgentConfig(
      { dataDir: agentDataDir, detector: 'native', frameSize: '128x96', logLevel: 'warn' },
      {},
    );
    agent = await runAgent(config, '0.0.0-test', silentLogger);
    await eventually(
      async () => (await api<DeviceView & { online: boolean }>('GET', `/devices/${deviceId}`)).body,
      (device) => device.online,
      { timeoutMs: 10_000, what: `${deviceId} online` },
    );
  }, 240_000);

  afterAll(async () => {
    await agent?.stop();
    if (controlPlane) {
      await removeScheduledQueues(controlPlane, queuePrefix);
      await controlPlane.close();
    }
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  it('downloads, verifies, installs and health-checks the assigned model, then runs it', async () => {
    const jobId = await assign(versionIds[0] ?? '', 1);
    const job = await finished(jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.statusDetails).toMatchObject({ step: 'RUNNING', modelId: model });
    expect(job.statusDetails.measuredFps).toBeGreaterThan(1);
    const steps = job.updates.filter((u) => u.source === 'device').map((u) => `${u.status}/${u.step ?? '-'}`);
    expect(steps).toEqual(
      expect.arrayContaining([
        'IN_PROGRESS/DOWNLOADING',
        'IN_PROGRESS/VERIFYING',
        'IN_PROGRESS/INSTALLING',
        'IN_PROGRESS/HEALTH_CHECK',
        'SUCCEEDED/RUNNING',
      ]),
    );
    expect(steps.indexOf('IN_PROGRESS/DOWNLOADING')).toBeLessThan(steps.indexOf('IN_PROGRESS/HEALTH_CHECK'));
    const device = await runningModelBecomes('1');
    expect(device).toMatchObject({
      currentModel: { modelId: model, version: '1' },
      desiredModel: { modelId: model, version: '1' },
    });
    expect(agent?.reconciler.runningModel).toMatchObject({ modelId: model, version: '1' });
  }, 90_000);

  it('fails an impossible health gate with ROLLED_BACK and keeps running the previous model', async () => {
    const jobId = await assign(versionIds[1] ?? '', 10_000);
    const job = await finished(jobId);
    expect(job.status).toBe('FAILED');
    expect(job.statusDetails.step).toBe('ROLLED_BACK');
    expect(job.statusDetails.reason).toMatch(new RegExp(`health check failed: .*; kept ${model}`));
    expect(job.statusDetails.measuredFps).toBeLessThan(10_000);
    const device = await runningModelBecomes('1');
    expect(device.desiredModel).toEqual({ modelId: model, version: '2' });
    expect(agent?.reconciler.runningModel).toMatchObject({ version: '1' });
  }, 90_000);

  it('switches to the new model when its gate passes, and rolls back to the previous one on request', async () => {
    const switched = await finished(await assign(versionIds[1] ?? '', 1));
    expect(switched).toMatchObject({ status: 'SUCCEEDED', statusDetails: { step: 'RUNNING' } });
    await runningModelBecomes('2');

    const rollback = await api<{ jobId: string }>('POST', `/devices/${deviceId}/jobs`, {
      operation: 'rollback',
      parameters: { reason: 'operator rollback test' },
    });
    expect(rollback.status).toBe(201);
    const job = await finished(rollback.body.jobId);
    expect(job).toMatchObject({
      status: 'SUCCEEDED',
      statusDetails: { step: 'ROLLED_BACK', modelId: model, reason: 'operator rollback test' },
    });
    await runningModelBecomes('1');
    const pointer = JSON.parse(readFileSync(join(agentDataDir, 'models', 'current'), 'utf8')) as {
      current: { version: string; slot: string };
      previous: { version: string; slot: string };
    };
    expect(pointer.current.version).toBe('1');
    expect(pointer.previous.version).toBe('2');
    expect(existsSync(join(agentDataDir, 'models', `slot-${pointer.current.slot}`, 'model.cfg'))).toBe(true);
  }, 90_000);
});
