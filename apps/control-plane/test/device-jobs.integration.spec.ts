import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { type DeviceReportableJobStatus, type JobStatusDetails, PROTOCOL_VERSION } from '@emofleet/protocol';
import { DeviceJobTimeoutProcessor } from '../src/device-jobs/device-job-timeout.processor';
import { DeviceJobUpdates } from '../src/device-jobs/device-job-updates';
import {
  type DeviceJobChange,
  DeviceJobChanges,
  DeviceJobsService,
  DeviceJobStatus,
} from '../src/device-jobs/device-jobs.service';
import { ProtocolRejections } from '../src/messaging/protocol-rejections';
import { apiRequest, type ApiErrorResponseBody } from './support/api-request';
import { runCli as emofleet } from './support/cli-runner';
import { eventually } from './support/eventually';
import { JobDevice } from './support/job-device';
import { removeScheduledQueues } from './support/queue-cleanup';
import {
  createTestDatabase,
  testAdminToken,
  type TestMode,
  testConfig,
  uniqueSuffix,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from './support/test-environment';

interface JobView {
  jobId: string;
  deviceId: string;
  operation: string;
  parameters: Record<string, unknown>;
  status: string;
  versionNumber: number;
  statusDetails: { step?: string; reason?: string; measuredFps?: number };
  desiredVersion: number | null;
  modelVersionId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  timeoutAt: string | null;
}
interface JobDetail extends JobView {
  updates: Array<{ status: string; step: string | null; versionNumber: number; source: string }>;
}

/**
 * The control plane's side of desired state and jobs at the protocol level: a plain MQTT client plays the
 * device (real broker, Redis and database), so every rejection path can be provoked exactly.
 */
describe.each<TestMode>(['external-services', 'embedded'])('device jobs over MQTT with %s', (mode) => {
  let controlPlane: RunningControlPlane;
  let topicPrefix: string;
  let queuePrefix: string;
  const changes: DeviceJobChange[] = [];
  const devices: JobDevice[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const overrides: Record<string, string> = {};
    if (mode === 'external-services') {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      overrides.DATABASE_URL = database.url;
    }
    const test = testConfig(mode, overrides);
    cleanups.push(test.cleanup);
    topicPrefix = test.topicPrefix;
    queuePrefix = test.config.queuePrefix;
    controlPlane = await startControlPlane(test.config, () => undefined);
    controlPlane.app.get(DeviceJobChanges).subscribe((change) => {
      changes.push(change);
    });
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const device of devices) await device.close();
    if (controlPlane) {
      await removeScheduledQueues(controlPlane, queuePrefix);
      await controlPlane.close();
    }
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  const api = <T>(method: string, path: string, body?: unknown) =>
    apiRequest<T>(controlPlane.httpUrl, method, path, { body });
  const newDevice = async () => {
    const device = await JobDevice.enrol(controlPlane.httpUrl, topicPrefix, `jobs-${uniqueSuffix()}`);
    devices.push(device);
    return device;
  };
  const enqueue = async (deviceId: string, body: unknown) => {
    const response = await api<JobView>('POST', `/devices/${deviceId}/jobs`, body);
    expect(response.status).toBe(201);
    return response.body;
  };
  const jobDetail = async (jobId: string) => (await api<JobDetail>('GET', `/device-jobs/${jobId}`)).body;

  it('publishes the desired state and the job, applies updates in version order exactly once', async () => {
    const device = await newDevice();
    const assigned = await api<JobView>('PUT', `/devices/${device.id}/desired-model`, {
      modelVersionId: null,
    });
    expect(assigned.status).toBe(200);
    const job = assigned.body;
    expect(job).toMatchObject({
      deviceId: device.id,
      operation: 'apply-desired-state',
      parameters: { desiredVersion: 1 },
      status: 'QUEUED',
      versionNumber: 1,
      desiredVersion: 1,
      modelVersionId: null,
      timeoutAt: null,
    });
    const desired = await device.desiredBecomes((m) => m.desiredVersion === 1, 'version 1');
    expect(desired).toMatchObject({ deviceId: device.id, model: null, healthCheck: null, rolloutId: null });
    const next = await device.nextJobBecomes((m) => m.execution?.jobId === job.jobId, 'the apply job');
    expect(next.execution).toMatchObject({
      status: 'QUEUED',
      versionNumber: 1,
      document: { operation: 'apply-desired-state', parameters: { desiredVersion: 1 } },
    });

    expect(await device.update(job.jobId, 'IN_PROGRESS', 1, { step: 'DOWNLOADING' })).toMatchObject({
      accepted: true,
      status: 'IN_PROGRESS',
      versionNumber: 2,
    });
    // The same update again (a QoS 1 redelivery, a resend after reconnecting) cannot apply twice.
    const duplicate = await device.update(job.jobId, 'IN_PROGRESS', 1, { step: 'DOWNLOADING' });
    expect(duplicate).toMatchObject({
      accepted: false,
      rejection: 'version-conflict',
      status: 'IN_PROGRESS',
      versionNumber: 2,
    });
    expect(
      await device.update(job.jobId, 'SUCCEEDED', 2, { step: 'RUNNING', measuredFps: 12.5 }),
    ).toMatchObject({ accepted: true, status: 'SUCCEEDED', versionNumber: 3 });
    expect(await device.update(job.jobId, 'FAILED', 3, { reason: 'too late' })).toMatchObject({
      accepted: false,
      rejection: 'terminal-state',
      status: 'SUCCEEDED',
      versionNumber: 3,
    });
    await device.nextJobBecomes((m) => m.execution === null, 'empty');

    const detail = await jobDetail(job.jobId);
    expect(detail).toMatchObject({
      status: 'SUCCEEDED',
      versionNumber: 3,
      statusDetails: { step: 'RUNNING', measuredFps: 12.5 },
    });
    expect(detail.startedAt).not.toBeNull();
    expect(detail.finishedAt).not.toBeNull();
    expect(detail.updates.map((u) => [u.status, u.step, u.versionNumber, u.source])).toEqual([
      ['QUEUED', null, 1, 'token:EMOFLEET_ADMIN_TOKEN'],
      ['IN_PROGRESS', 'DOWNLOADING', 2, 'device'],
      ['SUCCEEDED', 'RUNNING', 3, 'device'],
    ]);
    const ofJob = () => changes.filter((change) => change.job.jobId === job.jobId);
    await eventually(
      () => Promise.resolve(ofJob()),
      (list) => list.length === 2,
    );
    expect(ofJob().map((c) => `${c.previousStatus}>${c.job.status}`)).toEqual([
      'QUEUED>IN_PROGRESS',
      'IN_PROGRESS>SUCCEEDED',
    ]);
    const listed = await api<{ items: JobView[] }>('GET', `/devices/${device.id}/jobs`);
    expect(listed.body.items.map((item) => item.jobId)).toEqual([job.jobId]);
    const audit = await api<{ items: Array<{ route: string; targetId: string | null; status: number }> }>(
      'GET',
      '/audit?method=PUT',
    );
    expect(audit.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ route: '/devices/:id/desired-model', targetId: device.id, status: 200 }),
      ]),
    );
  }, 30_000);

  it('applies updates that arrive together in one transaction, each against the job as those before it left it', async () => {
    const [first, second, intruder] = [await newDevice(), await newDevice(), await newDevice()];
    const firstJob = await enqueue(first.id, { operation: 'evaluate', parameters: {} });
    const secondJob = await enqueue(second.id, { operation: 'evaluate', parameters: {} });
    await first.nextJobBecomes((m) => m.execution?.jobId === firstJob.jobId, 'the queued job');
    const updates = controlPlane.app.get(DeviceJobUpdates);
    const flushesBefore = updates.flushes;
    const update = (
      device: JobDevice,
      jobId: string,
      status: DeviceReportableJobStatus,
      expectedVersion: number,
      statusDetails: JobStatusDetails = {},
    ) =>
      updates.apply({
        v: PROTOCOL_VERSION,
        deviceId: device.id,
        jobId,
        status,
        expectedVersion,
        statusDetails,
        timestamp: Date.now(),
      });
    // Submitted in one turn of the event loop: one flush takes them all, in this order.
    const verdicts = await Promise.all([
      update(first, firstJob.jobId, 'IN_PROGRESS', 1, { step: 'DOWNLOADING' }),
      update(first, firstJob.jobId, 'IN_PROGRESS', 1, { step: 'DOWNLOADING' }),
      update(first, firstJob.jobId, 'SUCCEEDED', 2, { step: 'RUNNING', measuredFps: 9.5 }),
      update(first, firstJob.jobId, 'FAILED', 3, { reason: 'too late' }),
      update(second, secondJob.jobId, 'FAILED', 1, { reason: 'no camera' }),
      update(intruder, secondJob.jobId, 'SUCCEEDED', 2),
    ]);
    expect(updates.flushes - flushesBefore).toBe(1);
    expect(verdicts).toEqual([
      { accepted: true, status: 'IN_PROGRESS', versionNumber: 2 },
      { accepted: false, status: 'IN_PROGRESS', versionNumber: 2, rejection: 'version-conflict' },
      { accepted: true, status: 'SUCCEEDED', versionNumber: 3 },
      { accepted: false, status: 'SUCCEEDED', versionNumber: 3, rejection: 'terminal-state' },
      { accepted: true, status: 'FAILED', versionNumber: 2 },
      { accepted: false, status: 'CANCELED', versionNumber: 0, rejection: 'unknown-job' },
    ]);

    const firstDetail = await jobDetail(firstJob.jobId);
    expect(firstDetail).toMatchObject({
      status: 'SUCCEEDED',
      versionNumber: 3,
      statusDetails: { step: 'RUNNING', measuredFps: 9.5 },
    });
    expect(firstDetail.startedAt).not.toBeNull();
    expect(firstDetail.finishedAt).not.toBeNull();
    expect(firstDetail.updates.map((u) => [u.status, u.step, u.versionNumber, u.source])).toEqual([
      ['QUEUED', null, 1, 'token:EMOFLEET_ADMIN_TOKEN'],
      ['IN_PROGRESS', 'DOWNLOADING', 2, 'device'],
      ['SUCCEEDED', 'RUNNING', 3, 'device'],
    ]);
    const secondDetail = await jobDetail(secondJob.jobId);
    expect(secondDetail).toMatchObject({
      status: 'FAILED',
      versionNumber: 2,
      statusDetails: { reason: 'no camera' },
    });
    expect(secondDetail.startedAt).not.toBeNull();
    expect(secondDetail.updates.map((u) => [u.status, u.versionNumber])).toEqual([
      ['QUEUED', 1],
      ['FAILED', 2],
    ]);
    // Every accepted change is announced once, in order, as it is when the updates come one by one.
    const transitions = (jobId: string) =>
      changes.filter((c) => c.job.jobId === jobId).map((c) => `${c.previousStatus}>${c.job.status}`);
    await eventually(
      () => Promise.resolve(transitions(firstJob.jobId)),
      (list) => list.length === 2,
    );
    expect(transitions(firstJob.jobId)).toEqual(['QUEUED>IN_PROGRESS', 'IN_PROGRESS>SUCCEEDED']);
    expect(transitions(secondJob.jobId)).toEqual(['QUEUED>FAILED']);
    await first.nextJobBecomes((m) => m.execution === null, 'empty');
    await second.nextJobBecomes((m) => m.execution === null, 'empty');
  }, 30_000);

  it('answers updates of unknown jobs and of other devices’ jobs with unknown-job, changing nothing', async () => {
    const owner = await newDevice();
    const intruder = await newDevice();
    const job = await enqueue(owner.id, { operation: 'evaluate', parameters: {} });
    expect(await intruder.update(job.jobId, 'SUCCEEDED', 1)).toMatchObject({
      accepted: false,
      rejection: 'unknown-job',
      status: 'CANCELED',
      versionNumber: 0,
    });
    expect(await owner.update('no-such-job', 'IN_PROGRESS', 1)).toMatchObject({
      accepted: false,
      rejection: 'unknown-job',
    });
    expect(await jobDetail(job.jobId)).toMatchObject({ status: 'QUEUED', versionNumber: 1 });
  }, 30_000);

  it('counts malformed updates, answers them invalid with the current version, and keeps working', async () => {
    const device = await newDevice();
    const job = await enqueue(device.id, { operation: 'evaluate', parameters: {} });
    const rejections = controlPlane.app.get(ProtocolRejections);
    const before = rejections.snapshot().byKindAndReason['job-update/invalid-json'] ?? 0;
    expect(await device.send(job.jobId, '{"v":1, not json')).toMatchObject({
      accepted: false,
      rejection: 'invalid',
      status: 'QUEUED',
      versionNumber: 1,
    });
    const noStatus = JSON.stringify({
      v: 1,
      deviceId: device.id,
      jobId: job.jobId,
      status: 'TIMED_OUT',
      expectedVersion: 1,
      statusDetails: {},
      timestamp: Date.now(),
    });
    expect(await device.send(job.jobId, noStatus)).toMatchObject({ accepted: false, rejection: 'invalid' });
    const counts = rejections.snapshot().byKindAndReason;
    expect(counts['job-update/invalid-json']).toBe(before + 1);
    expect(counts['job-update/schema-violation']).toBeGreaterThanOrEqual(1);
    expect(await device.update(job.jobId, 'REJECTED', 1, { reason: 'no model is running' })).toMatchObject({
      accepted: true,
      status: 'REJECTED',
      versionNumber: 2,
    });
  }, 30_000);

  it('times out a job that is not finished in time, whatever the device says afterwards', async () => {
    const device = await newDevice();
    // The time-out worker waits until the device reported progress, so that a slow moment of this machine between
    // the two requests cannot end the job first; its delayed time-out job runs once the worker resumes.
    const timeouts = controlPlane.app.get(DeviceJobTimeoutProcessor).worker;
    await timeouts.pause();
    let job: JobView;
    try {
      job = await enqueue(device.id, { operation: 'evaluate', parameters: {}, timeoutSeconds: 1 });
      expect(job.timeoutAt).not.toBeNull();
      expect(await device.update(job.jobId, 'IN_PROGRESS', 1)).toMatchObject({
        accepted: true,
        versionNumber: 2,
      });
    } finally {
      timeouts.resume();
    }
    const timedOut = await eventually(
      () => jobDetail(job.jobId),
      (detail) => detail.status === 'TIMED_OUT',
      { timeoutMs: 15_000, intervalMs: 200, what: `${job.jobId} TIMED_OUT` },
    );
    expect(timedOut.versionNumber).toBe(3);
    expect(timedOut.statusDetails.reason).toMatch(
      /not finished within its time-out .*last status IN_PROGRESS/,
    );
    expect(timedOut.updates.at(-1)).toMatchObject({ status: 'TIMED_OUT', source: 'timeout' });
    expect(await device.update(job.jobId, 'SUCCEEDED', 2)).toMatchObject({
      accepted: false,
      rejection: 'terminal-state',
      status: 'TIMED_OUT',
      versionNumber: 3,
    });
    await device.nextJobBecomes((m) => m.execution === null, 'empty after the time-out');
    await eventually(
      () => Promise.resolve(changes.filter((c) => c.job.jobId === job.jobId).map((c) => c.job.status)),
      (statuses) => statuses.join() === 'IN_PROGRESS,TIMED_OUT',
      { what: 'one change per status' },
    );
  }, 30_000);

  it('cancels a job: the device is told by rejection and notify-next moves on to the next job', async () => {
    const device = await newDevice();
    const first = await enqueue(device.id, { operation: 'rollback', parameters: { reason: 'bad model' } });
    const second = await enqueue(device.id, { operation: 'evaluate', parameters: {} });
    await device.nextJobBecomes((m) => m.execution?.jobId === first.jobId, 'the first job');
    expect(await device.update(first.jobId, 'IN_PROGRESS', 1)).toMatchObject({ accepted: true });

    const canceled = await api<JobView>('POST', `/device-jobs/${first.jobId}/cancel`, {
      reason: 'changed my mind',
    });
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({
      status: 'CANCELED',
      versionNumber: 3,
      statusDetails: { reason: 'canceled by token:EMOFLEET_ADMIN_TOKEN: changed my mind' },
    });
    const again = await api<ApiErrorResponseBody>('POST', `/device-jobs/${first.jobId}/cancel`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/CANCELED already/);

    expect(await device.update(first.jobId, 'SUCCEEDED', 2)).toMatchObject({
      accepted: false,
      rejection: 'terminal-state',
      status: 'CANCELED',
    });
    await device.nextJobBecomes((m) => m.execution?.jobId === second.jobId, 'the second job');
    // No body: the default reason.
    expect((await api('POST', '/device-jobs/no-such-job/cancel')).status).toBe(404);
  }, 30_000);

  it('supersedes an unfinished apply job when the desired model changes again', async () => {
    const device = await newDevice();
    const first = (await api<JobView>('PUT', `/devices/${device.id}/desired-model`, { modelVersionId: null }))
      .body;
    const second = (
      await api<JobView>('PUT', `/devices/${device.id}/desired-model`, {
        modelVersionId: null,
        healthCheck: { warmupFrames: 1, measureFrames: 5, minFps: 2, minAccuracy: null },
      })
    ).body;
    expect(second.desiredVersion).toBe(2);
    expect(await jobDetail(first.jobId)).toMatchObject({
      status: 'CANCELED',
      statusDetails: { reason: 'superseded by desired version 2' },
    });
    await device.desiredBecomes(
      (m) => m.desiredVersion === 2 && m.healthCheck?.minFps === 2,
      'version 2 with its health check',
    );
    await device.nextJobBecomes((m) => m.execution?.jobId === second.jobId, 'the second apply job');
  }, 30_000);

  it('assigns a batch of devices at once (as a rollout does): jobs, supersedes and messages per device, refusals apart', async () => {
    const [a, b, c, retired] = [await newDevice(), await newDevice(), await newDevice(), await newDevice()];
    const earlier = (await api<JobView>('PUT', `/devices/${c.id}/desired-model`, { modelVersionId: null }))
      .body;
    expect((await api('DELETE', `/devices/${retired.id}`)).status).toBe(200);
    const healthCheck = (minFps: number) => ({
      warmupFrames: 1,
      measureFrames: 5,
      minFps,
      minAccuracy: null,
    });
    const input = (deviceId: string, minFps: number, timeoutMs?: number) => ({
      deviceId,
      modelVersionId: null,
      healthCheck: healthCheck(minFps),
      rolloutId: 'batch-test',
      timeoutMs,
      actor: 'test:batch',
    });
    const outcomes = await controlPlane.app
      .get(DeviceJobsService)
      .assignModels([
        input(a.id, 3, 60_000),
        input('no-such-device', 3),
        input(b.id, 4, 0),
        input(retired.id, 3),
        input(c.id, 5, 60_000),
      ]);
    const refusal = (index: number) => {
      const outcome = outcomes[index];
      return outcome?.ok === false ? `${outcome.error.getStatus()} ${outcome.error.message}` : 'assigned';
    };
    expect(refusal(1)).toBe('404 no device with id "no-such-device"');
    expect(refusal(2)).toMatch(/^400 timeout: 0 ms is not/);
    expect(refusal(3)).toBe(`409 device ${retired.id} is decommissioned`);
    const jobOf = (index: number) => {
      const outcome = outcomes[index];
      if (outcome?.ok !== true) throw new Error(`outcome ${index} is ${refusal(index)}`);
      return outcome.job;
    };
    expect(jobOf(0)).toMatchObject({ deviceId: a.id, desiredVersion: 1, status: 'QUEUED' });
    expect(jobOf(4)).toMatchObject({ deviceId: c.id, desiredVersion: 2, status: 'QUEUED' });
    expect((await jobDetail(jobOf(0).jobId)).timeoutAt).not.toBeNull();

    // The batch's devices get their own desired state and job; the refused ones nothing.
    await a.desiredBecomes((m) => m.desiredVersion === 1 && m.healthCheck?.minFps === 3, 'version 1, 3 FPS');
    await a.nextJobBecomes((m) => m.execution?.jobId === jobOf(0).jobId, 'the batch job');
    await c.desiredBecomes((m) => m.desiredVersion === 2 && m.healthCheck?.minFps === 5, 'version 2, 5 FPS');
    await c.nextJobBecomes((m) => m.execution?.jobId === jobOf(4).jobId, 'the batch job');
    expect(b.desired).toEqual([]);
    expect(await jobDetail(earlier.jobId)).toMatchObject({
      status: 'CANCELED',
      statusDetails: { reason: 'superseded by desired version 2' },
    });
    expect(
      changes.some(
        (change) => change.job.jobId === earlier.jobId && change.job.status === DeviceJobStatus.Canceled,
      ),
    ).toBe(true);
    const jobsOfB = await api<{ items: JobView[] }>('GET', `/devices/${b.id}/jobs`);
    expect(jobsOfB.body.items).toEqual([]);
  }, 30_000);

  it('refuses bad requests with a clear error', async () => {
    const device = await newDevice();
    const expectError = async (
      method: string,
      path: string,
      body: unknown,
      status: number,
      message: RegExp,
    ) => {
      const response = await api<ApiErrorResponseBody>(method, path, body);
      expect(response.status).toBe(status);
      expect(response.body.error.message).toMatch(message);
    };
    await expectError(
      'PUT',
      `/devices/${device.id}/desired-model`,
      { modelVersionId: 'nope' },
      422,
      /no model version with id "nope"/,
    );
    await expectError(
      'PUT',
      '/devices/no-such-device/desired-model',
      { modelVersionId: null },
      404,
      /no device/,
    );
    await expectError('PUT', `/devices/${device.id}/desired-model`, {}, 400, /modelVersionId/);
    await expectError(
      'POST',
      `/devices/${device.id}/jobs`,
      { operation: 'evaluate', parameters: { modelId: 'bad id!' } },
      400,
      /parameters\.modelId/,
    );
    await expectError(
      'POST',
      `/devices/${device.id}/jobs`,
      { operation: 'reboot', parameters: {} },
      400,
      /operation/,
    );
    await expectError('GET', `/devices/${device.id}/jobs?cursor=abc`, undefined, 400, /cursor/);
    await expectError('GET', '/device-jobs/no-such-job', undefined, 404, /no device job/);

    for (let index = 0; index < 3; index += 1)
      await enqueue(device.id, { operation: 'evaluate', parameters: {} });
    const first = await api<{ items: JobView[]; nextCursor: string | null }>(
      'GET',
      `/devices/${device.id}/jobs?limit=2`,
    );
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).not.toBeNull();
    const rest = await api<{ items: JobView[]; nextCursor: string | null }>(
      'GET',
      `/devices/${device.id}/jobs?limit=2&cursor=${first.body.nextCursor ?? ''}`,
    );
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();

    expect((await api('DELETE', `/devices/${device.id}`)).status).toBe(200);
    await expectError(
      'PUT',
      `/devices/${device.id}/desired-model`,
      { modelVersionId: null },
      409,
      /decommissioned/,
    );
  }, 30_000);

  it('assigns and lists through the CLI (`emofleet devices assign`, `emofleet devices jobs`)', async () => {
    const device = await newDevice();
    const connection = ['--server', controlPlane.httpUrl, '--token', testAdminToken];
    const assigned = await emofleet(
      'devices',
      'assign',
      device.id,
      'none',
      '--min-fps',
      '3',
      '--timeout',
      '60',
      ...connection,
    );
    expect(assigned).toMatch(new RegExp(`^desired version 1 of ${device.id}: job \\S+ QUEUED\\n$`));
    await device.desiredBecomes(
      (m) => m.healthCheck?.minFps === 3 && m.healthCheck.measureFrames === 50,
      'from the CLI',
    );
    const listed = await emofleet('devices', 'jobs', device.id, ...connection);
    expect(listed).toMatch(/ apply-desired-state +QUEUED +v1 queued /);
    await expect(emofleet('devices', 'assign', device.id, 'no-such-version', ...connection)).rejects.toThrow(
      /assigning a model to .* failed: modelVersionId: no model version with id "no-such-version"/,
    );
  }, 30_000);
});

describe('device job time-outs with separate api and worker processes', () => {
  let api: RunningControlPlane;
  let worker: RunningControlPlane;
  let device: JobDevice;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const apiTest = testConfig('external-services', { DATABASE_URL: database.url, EMOFLEET_ROLE: 'api' });
    cleanups.push(apiTest.cleanup);
    const workerTest = testConfig('external-services', {
      DATABASE_URL: database.url,
      EMOFLEET_ROLE: 'worker',
      MQTT_TOPIC_PREFIX: apiTest.topicPrefix,
      QUEUE_PREFIX: apiTest.config.queuePrefix,
    });
    cleanups.push(workerTest.cleanup);
    api = await startControlPlane(apiTest.config, () => undefined);
    cleanups.push(() => api.close());
    worker = await startControlPlane(workerTest.config, () => undefined);
    cleanups.push(async () => {
      await removeScheduledQueues(worker, apiTest.config.queuePrefix);
      await worker.close();
    });
    device = await JobDevice.enrol(api.httpUrl, apiTest.topicPrefix, `split-${uniqueSuffix()}`);
    cleanups.push(() => device.close());
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  it('the worker times out what the api queued, and the device sees notify-next move on', async () => {
    const queued = await apiRequest<{ jobId: string }>(api.httpUrl, 'POST', `/devices/${device.id}/jobs`, {
      body: { operation: 'evaluate', parameters: {}, timeoutSeconds: 1 },
    });
    expect(queued.status).toBe(201);
    const { jobId } = queued.body;
    // Any notify-next so far: on a slow moment the job's may already be followed by the empty one.
    await eventually(
      () => Promise.resolve(device.notifications.some((m) => m.execution?.jobId === jobId)),
      (seen) => seen,
      { what: 'notify-next of the job' },
    );
    await device.nextJobBecomes((m) => m.execution === null, 'empty once the worker timed the job out');
    expect(await device.update(jobId, 'IN_PROGRESS', 1)).toMatchObject({
      accepted: false,
      rejection: 'terminal-state',
      status: 'TIMED_OUT',
      versionNumber: 2,
    });
  }, 30_000);
});
