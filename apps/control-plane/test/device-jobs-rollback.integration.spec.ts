/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { apiRequest } from './support/api-request';
import { JobDevice } from './support/job-device';
import { removeScheduledQueues } from './support/queue-cleanup';
import { uploadReadyVersion } from './support/small-model';
import { createTestDatabase, testConfig, uniqueSuffix } from './support/test-environment';

interface JobView {
  jobId: string;
  operation: string;
  status: string;
  versionNumber: number;
  desiredVersion: number | null;
  modelVersionId: string | null;
}
interface DeviceView {
  desiredModel: { modelId: string; version: string } | null;
}

/**
 * An explicit `rollback` job and the desired state, at the protocol level (a plain MQTT client plays the device)
 * against real PostgreSQL, Redis and Mosquitto, with two ready versions of a small model from the pipeline.
 */
describe('a rollback job and the desired state', () => {
  let controlPlane: RunningControlPlane;
  let topicPrefix: string;
  let queuePrefix: string;
  const model = `rollback-${uniqueSuffix()}`;
  let v1: string;
  let v2: string;
  const devices: JobDevice[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('external-services', { DATABASE_URL: database.url });
    cleanups.push(test.cleanup);
    topicPrefix = test.topicPrefix;
    queuePrefix = test.config.queuePrefix;
    controlPlane = await startControlPlane(test.config, () => undefined);
    v1 = (await uploadReadyVersion(controlPlane.httpUrl, model, 1)).id;
    v2 = (await uploadReadyVersion(controlPlane.httpUrl, model, 2)).id;
  }, 300_000);

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

  /** A device that installed v1 and then v2 (each apply job reported SUCCEEDED). */
  async function deviceOnV2(): Promise<JobDevice> {
    const device = await JobDevice.enrol(controlPlane.httpUrl, topicPrefix, `rb-${uniqueSuffix()}`);
    devices.push(device);
    for (const modelVersionId of [v1, v2]) {
      const assigned = await api<JobView>('PUT', `/devices/${device.id}/desired-model`, { modelVersionId });
      expect(assigned.status).toBe(200);
      await device.nextJobBecomes((m) => m.execution?.jobId === assigned.body.jobId, 'the apply job');
      expect(await device.update(assigned.body.jobId, 'IN_PROGRESS', 1)).toMatchObject({ accepted: true });
      expect(
        await device.update(assigned.body.jobId, 'SUCCEEDED', 2, { step: 'RUNNING', modelId: model }),
      ).toMatchObject({ accepted: true });
    }
    return device;
  }

  async function rollBack(device: JobDevice): Promise<JobView> {
    const queued = await api<JobView>('POST', `/devices/${device.id}/jobs`, {
      operation: 'rollback',
      parameters: { reason: 'v2 misbehaves' },
    });
    expect(queued.status).toBe(201);
    await device.nextJobBecomes((m) => m.execution?.jobId === queued.body.jobId, 'the rollback job');
    return queued.body;
  }

  const succeed = async (device: JobDevice, job: JobView) => {
    expect(await device.update(job.jobId, 'IN_PROGRESS', 1)).toMatchObject({ accepted: true });
    expect(
      await device.update(job.jobId, 'SUCCEEDED', 2, { step: 'ROLLED_BACK', modelId: model }),
    ).toMatchObject({ accepted: true });
  };

  it('makes the model a succeeded rollback returned to the desired state, without a new apply job', async () => {
    const device = await deviceOnV2();
    const rollback = await rollBack(device);
    // Queued with the model version it returns to and the desired version it was queued at.
    expect(rollback).toMatchObject({ operation: 'rollback', modelVersionId: v1, desiredVersion: 2 });
    const before = await api<DeviceView>('GET', `/devices/${device.id}`);
    expect(before.body.desiredModel).toEqual({ modelId: model, version: '2' });

    await succeed(device, rollback);
    const desired = await device.desiredBecomes(
      (m) => m.desiredVersion === 3,
      'version 3 after the rollback',
    );
    expect(desired.model).toMatchObject({ modelId: model, version: '1', format: 'darknet-bundle' });
    expect(desired.healthCheck).toBeNull();
    const after = await api<DeviceView>('GET', `/devices/${device.id}`);
    expect(after.body.desiredModel).toEqual({ modelId: model, version: '1' });
    const jobs = await api<{ items: JobView[] }>('GET', `/devices/${device.id}/jobs`);
    expect(jobs.body.items.map((job) => [job.operation, job.status])).toEqual([
      ['rollback', 'SUCCEEDED'],
      ['apply-desired-state', 'SUCCEEDED'],
      ['apply-desired-state', 'SUCCEEDED'],
    ]);
    await device.nextJobBecomes((m) => m.execution === null, 'no job after the rollback');

    // A second rollback swaps back to v2 (the device's previous slot is v2 now).
    const again = await rollBack(device);
    expect(again).toMatchObject({ modelVersionId: v2, desiredVersion: 3 });
    await succeed(device, again);
    const back = await device.desiredBecomes(
      (m) => m.desiredVersion === 4,
      'version 4 after rolling back again',
    );
    expect(back.model).toMatchObject({ modelId: model, version: '2' });
  }, 60_000);

  it('keeps a desired state set after the rollback was queued', async () => {
    const device = await deviceOnV2();
    const rollback = await rollBack(device);
    const newer = await api<JobView>('PUT', `/devices/${device.id}/desired-model`, { modelVersionId: v2 });
    expect(newer.body.desiredVersion).toBe(3);
    await device.desiredBecomes(
      (m) => m.desiredVersion === 3,
      'version 3, set after the rollback was queued',
    );
    await succeed(device, rollback);
    const after = await api<DeviceView>('GET', `/devices/${device.id}`);
    expect(after.body.desiredModel).toEqual({ modelId: model, version: '2' });
    const newerJob = await api<JobView>('GET', `/device-jobs/${newer.body.jobId}`);
    expect(newerJob.body.status).toBe('QUEUED');
    expect(device.desired.at(-1)?.desiredVersion).toBe(3);
  }, 60_000);

  it('changes nothing when the control plane does not know what the device rolls back to', async () => {
    const device = await JobDevice.enrol(controlPlane.httpUrl, topicPrefix, `rb-${uniqueSuffix()}`);
    devices.push(device);
    const rollback = await rollBack(device);
    expect(rollback).toMatchObject({ modelVersionId: null, desiredVersion: 0 });
    await succeed(device, rollback);
    const after = await api<DeviceView>('GET', `/devices/${device.id}`);
    expect(after.body.desiredModel).toBeNull();
    expect(device.desired).toEqual([]);
  }, 30_000);
});
