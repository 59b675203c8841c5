/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { createHash } from 'node:crypto';
import {
  buildPublication,
  type JobNotifyNextMessage,
  PROTOCOL_VERSION,
  TopicScheme,
  verifyManifestSignature,
} from '@emofleet/protocol';
import { startControlPlane } from '../src/control-plane';
import { EngineBuildProcessor } from '../src/engines/engine-build.processor';
import { EngineBuildsService } from '../src/engines/engine-builds.service';
import { type BuilderAgent } from './support/builder-agent';
import { type EngineBuildSetup, startEngineBuildSetup } from './support/engine-build-setup';
import { connectAsDevice, enrolDevice } from './support/enrolment';
import { eventually } from './support/eventually';
import { testAdminToken, testConfig, uniqueSuffix } from './support/test-environment';

interface EngineBuildView {
  cacheKey: string;
  jobId: string;
  status: string;
  cached: boolean;
  target: { gpuArch: string; tensorrt: string; jetpack: string | null; precision: string };
  plan: { commandLine: string; notes: string[] };
  builderDeviceId: string | null;
  engine: { sha256: string; sizeBytes: number; tensorrtVersion: string | null } | null;
  timing: { throughputQps?: number; latencyMs?: { mean: number; p99?: number } } | null;
  buildLog: string | null;
  failedReason: string | null;
}
interface JobView {
  status: string;
  progress: number;
  attempts: number;
  logs: string[];
  result: Record<string, unknown> | null;
  failedReason: string | null;
}
interface DeviceJobView {
  jobId: string;
  operation: string;
  status: string;
  statusDetails: { buildStage?: string };
}

/**
 * engine-build end to end against real PostgreSQL, Redis and Mosquitto: a model version goes upload → convert →
 * benchmark → ready, then engines are requested per device class and built by real agent processes (agent/dist)
 * that claim a device class (`--claim-device-class`, a test-only override) and run the trtexec TEST DOUBLE as
 * their builder command. Attempts, backoff, polling and time-outs are shortened through the configuration.
 */
describe('engine builds on builder devices (test double of trtexec)', () => {
  let setup: EngineBuildSetup;
  let versionId: string;
  const agents = new Map<string, BuilderAgent>();

  const api = <T>(method: string, path: string, body?: unknown) => setup.api<T>(method, path, body);

  beforeAll(async () => {
    setup = await startEngineBuildSetup({
      model: 'tiny-engines',
      weightsSeed: 2026,
      engineBuild: {
        ENGINE_BUILD_TIMEOUT_MS: '20000',
        ENGINE_BUILD_ATTEMPTS: '2',
        ENGINE_BUILD_BACKOFF_MS: '300',
        ENGINE_BUILD_POLL_MS: '250',
      },
    });
    versionId = setup.versionId;
  }, 420_000);

  afterAll(async () => {
    await setup?.close();
  }, 30_000);

  /** Runs the real agent as a builder claiming `deviceClass`, with the trtexec double (support/builder-agent). */
  async function startBuilder(name: string, deviceClass: string, environment: Record<string, string> = {}) {
    const builder = await setup.startBuilder(name, deviceClass, { environment });
    agents.set(builder.deviceId, builder);
    return builder.deviceId;
  }

  const requestEngine = (body: Record<string, unknown>) =>
    api<EngineBuildView>('POST', `/models/${versionId}/engines`, body);

  const finished = (jobId: string, timeoutMs = 60_000) =>
    eventually(
      () => api<JobView>('GET', `/jobs/${jobId}`),
      (job) => job.body.status === 'completed' || job.body.status === 'failed',
      { timeoutMs, intervalMs: 200, what: `${jobId} finished` },
    );

  const buildJobsOf = async (deviceId: string) =>
    (await api<{ items: DeviceJobView[] }>('GET', `/devices/${deviceId}/jobs?limit=100`)).body.items.filter(
      (job) => job.operation === 'build-engine',
    );

  let builderX: string;
  let builtKey: string;
  /** Stays online for the worker-only test at the end. */
  let xavierBuilder: string;

  it('builds an engine on a builder of exactly the class, then answers the same key from the cache', async () => {
    builderX = await startBuilder('tx1-builder', 'gpuArch=sm_53,tensorrt=8.2.1,jetpack=4.6.1');

    const requested = await requestEngine({ gpuArch: 'sm_53', jetpack: '4.6.1', precision: 'fp16' });
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({
      cached: false,
      status: 'queued',
      target: { gpuArch: 'sm_53', tensorrt: '8.2', jetpack: '4.6.1', precision: 'fp16' },
    });
    builtKey = requested.body.cacheKey;
    expect(requested.body.jobId).toBe(`engine-build-${builtKey}`);
    expect(requested.body.plan.commandLine).toBe(
      `trtexec --onnx=model.onnx --saveEngine=./${builtKey}.engine --workspace=256 --fp16`,
    );

    const job = await finished(requested.body.jobId);
    expect(job.body.failedReason).toBeNull();
    expect(job.body.status).toBe('completed');
    expect(job.body.progress).toBe(100);
    const logs = job.body.logs.join('\n');
    expect(logs).toContain(`to builder ${builderX} (sm_53 / TensorRT 8.2 / JetPack 4.6.1 / fp16)`);
    expect(logs).toContain(`builder ${builderX}: IN_PROGRESS BUILDING`);
    expect(logs).toContain(`builder ${builderX}: IN_PROGRESS UPLOADING`);
    expect(logs).toMatch(
      /built engine [0-9a-f]{64} \(\d+ bytes\) in \d+ ms with TensorRT 8\.2\.1; trtexec: 61\.4986 qps/,
    );

    const build = await api<EngineBuildView>('GET', `/engine-builds/${builtKey}`);
    expect(build.body).toMatchObject({
      status: 'succeeded',
      builderDeviceId: builderX,
      engine: { tensorrtVersion: '8.2.1' },
      timing: { throughputQps: 61.4986, latencyMs: { mean: 16.2212, p99: 17.9063 } },
      failedReason: null,
    });
    expect(build.body.buildLog).toContain('THIS IS A TEST DOUBLE of trtexec');
    expect(job.body.result).toMatchObject({
      cacheKey: builtKey,
      builderDeviceId: builderX,
      engine: { sha256: build.body.engine?.sha256, sizeBytes: build.body.engine?.sizeBytes },
    });

    // The stored engine is the double's fake, made from this version's ONNX export.
    const engineSha = build.body.engine?.sha256 ?? '';
    const artifact = await fetch(`${setup.controlPlane.httpUrl}/artifacts/${engineSha}`, {
      headers: { authorization: `Bearer ${testAdminToken}` },
    });
    const engineText = await artifact.text();
    const version = await api<{ files: Array<{ role: string; sha256: string }> }>(
      'GET',
      '/models/tiny-engines/versions/1',
    );
    const onnxSha = version.body.files.find((file) => file.role === 'onnx')?.sha256;
    expect(engineText).toContain('emofleet trtexec TEST DOUBLE engine: NOT a TensorRT engine');
    expect(engineText).toContain(`onnx-sha256: ${onnxSha ?? 'missing'}`);
    expect(await buildJobsOf(builderX)).toHaveLength(1);

    // Same key (the JetPack only narrows the builder choice; TensorRT 8.2.1 is TensorRT 8.2): nothing is built.
    for (const body of [
      { gpuArch: 'sm_53', jetpack: '4.6.1', precision: 'fp16' },
      { gpuArch: 'sm_53', tensorrt: '8.2.1', precision: 'fp16' },
    ]) {
      const again = await requestEngine(body);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ cached: true, status: 'succeeded', cacheKey: builtKey });
      expect(again.body.engine?.sha256).toBe(engineSha);
    }
    expect(await buildJobsOf(builderX)).toHaveLength(1);
    const list = await api<{ items: EngineBuildView[] }>('GET', `/models/${versionId}/engines`);
    expect(list.body.items.map((item) => [item.cacheKey, item.status])).toEqual([[builtKey, 'succeeded']]);

    // What the rollout engine asks: the engine of a device class, with a manifest devices can verify.
    const engines = setup.controlPlane.app.get(EngineBuildsService, { strict: false });
    const forTx1 = await engines.findEngine(versionId, { gpuArch: 'sm_53', tensorrt: '8.2.1-1+cuda10.2' });
    expect(forTx1?.manifest).toMatchObject({ modelId: 'tiny-engines', version: '1', sha256: engineSha });
    const key = await api<{ publicKeyPem: string }>('GET', '/signing-key');
    expect(
      forTx1 && verifyManifestSignature(forTx1.manifest, forTx1.manifest.signature, key.body.publicKeyPem),
    ).toBe(true);
    expect(await engines.findEngine(versionId, { gpuArch: 'sm_62', tensorrt: '8.2.1' })).toBeNull();
  }, 120_000);

  it('takes engine uploads only from the device running the build job', async () => {
    const put = (headers: Record<string, string>) =>
      fetch(`${setup.controlPlane.httpUrl}/engine-builds/${builtKey}/engine`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/octet-stream',
          'x-content-sha256': 'a'.repeat(64),
          ...headers,
        },
        body: 'not an engine',
      });
    const enrolment = await enrolDevice(setup.controlPlane.httpUrl, `stranger-${uniqueSuffix()}`);
    const basic = (id: string, secret: string) =>
      `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    expect((await put({})).status).toBe(401);
    expect((await put({ authorization: basic(enrolment.deviceId, 'wrong') })).status).toBe(401);
    const stranger = await put({ authorization: basic(enrolment.deviceId, enrolment.secret) });
    expect(stranger.status).toBe(403);
    expect(((await stranger.json()) as { error: { message: string } }).error.message).toBe(
      `device ${enrolment.deviceId} has no running build-engine job for engine ${builtKey}`,
    );
    expect((await put({ authorization: `Bearer ${testAdminToken}` })).status).toBe(403);
  });

  it('ends FAILED with the builder log when trtexec fails on every attempt', async () => {
    const builderY = await startBuilder('tx2-builder', 'gpuArch=sm_62,tensorrt=8.2.1,jetpack=4.6.1', {
      EMOFLEET_TRTEXEC_DOUBLE_FAIL: 'unsupported ONNX operator',
    });
    const requested = await requestEngine({ gpuArch: 'sm_62', tensorrt: '8.2', precision: 'fp16' });
    expect(requested.status).toBe(202);
    const job = await finished(requested.body.jobId);
    expect(job.body.status).toBe('failed');
    expect(job.body.attempts).toBe(2);
    expect(job.body.failedReason).toBe(
      `builder ${builderY} failed: trtexec-test-double.sh exited with code 1`,
    );
    const logs = job.body.logs.join('\n');
    expect(logs).toContain('attempt 1 failed: ');
    expect(logs).toContain('failing as EMOFLEET_TRTEXEC_DOUBLE_FAIL asks: unsupported ONNX operator');
    const build = await api<EngineBuildView>('GET', `/engine-builds/${requested.body.cacheKey}`);
    expect(build.body).toMatchObject({ status: 'failed', engine: null, failedReason: job.body.failedReason });
    expect(build.body.buildLog).toContain('&&&& FAILED TensorRT.trtexec');
    expect((await buildJobsOf(builderY)).map((deviceJob) => deviceJob.status)).toEqual(['FAILED', 'FAILED']);

    // Asking again starts the failed key anew (here it fails again: the builder still fails).
    const again = await requestEngine({ gpuArch: 'sm_62', tensorrt: '8.2', precision: 'fp16' });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ cached: false, status: 'queued', cacheKey: requested.body.cacheKey });
    await eventually(
      () => buildJobsOf(builderY),
      (jobs) => jobs.length === 4 && jobs.every((deviceJob) => deviceJob.status === 'FAILED'),
      { timeoutMs: 60_000, intervalMs: 200, what: 'two more attempts' },
    );
    const rerun = await finished(requested.body.jobId);
    expect(rerun.body.logs.join('\n')).toContain(`requested again by token:`);
    expect(rerun.body.failedReason).toBe(job.body.failedReason);
  }, 120_000);

  it('finishes a build across a restart of the control plane with one device job', async () => {
    const builderZ = await startBuilder('xavier-builder', 'gpuArch=sm_72,tensorrt=8.5.2,jetpack=5.1', {
      EMOFLEET_TRTEXEC_DOUBLE_VERSION: '8502',
      EMOFLEET_TRTEXEC_DOUBLE_SECONDS: '6',
    });
    xavierBuilder = builderZ;
    const requested = await requestEngine({ gpuArch: 'sm_72', jetpack: '5.1', precision: 'fp32' });
    expect(requested.status).toBe(202);
    await eventually(
      () => buildJobsOf(builderZ),
      (jobs) => jobs[0]?.statusDetails.buildStage === 'BUILDING',
      { timeoutMs: 30_000, intervalMs: 100, what: 'the builder building' },
    );
    await setup.restart();

    const job = await finished(requested.body.jobId);
    expect(job.body.failedReason).toBeNull();
    expect(job.body.status).toBe('completed');
    expect((await buildJobsOf(builderZ)).map((deviceJob) => deviceJob.status)).toEqual(['SUCCEEDED']);
    const build = await api<EngineBuildView>('GET', `/engine-builds/${requested.body.cacheKey}`);
    expect(build.body).toMatchObject({ status: 'succeeded', builderDeviceId: builderZ });
    expect(build.body.engine?.tensorrtVersion).toBe('8.5.2');
  }, 120_000);

  it('times out a builder that does not finish, and fails after its retries', async () => {
    const builderW = await startBuilder('orin-builder', 'gpuArch=sm_87,tensorrt=10.3.0,jetpack=6.1', {
      EMOFLEET_TRTEXEC_DOUBLE_VERSION: '100300',
      EMOFLEET_TRTEXEC_DOUBLE_SECONDS: '300',
    });
    const requested = await requestEngine({ gpuArch: 'sm_87', jetpack: '6.1', precision: 'fp16' });
    expect(requested.body.plan.commandLine).toContain('--memPoolSize=workspace:256');
    const job = await finished(requested.body.jobId, 120_000);
    expect(job.body.status).toBe('failed');
    const timedOut = (status: string) =>
      new RegExp(
        `builder ${builderW} timed out: not finished within its time-out \\(.+\\); last status ${status}`,
      );
    expect(job.body.logs.join('\n')).toMatch(timedOut('IN_PROGRESS'));
    expect(job.body.failedReason).toMatch(timedOut('QUEUED'));
    // The second attempt waited behind the first on the device (one job at a time) and timed out QUEUED.
    expect((await buildJobsOf(builderW)).map((deviceJob) => deviceJob.status)).toEqual([
      'TIMED_OUT',
      'TIMED_OUT',
    ]);
  }, 150_000);

  it('fails clearly after its retries when no builder of the class is online', async () => {
    const nobody = await requestEngine({ gpuArch: 'sm_87', jetpack: '6.0', precision: 'fp16' });
    const nobodyJob = await finished(nobody.body.jobId);
    expect(nobodyJob.body).toMatchObject({ status: 'failed', attempts: 2 });
    expect(nobodyJob.body.failedReason).toBe(
      'no online engine builder of class sm_87 / TensorRT 8.6 / JetPack 6.0 / fp16 ' +
        '(no registered device announces a builder of that class)',
    );
    expect(nobodyJob.body.logs.join('\n')).toContain('attempt 1 failed: no online engine builder');

    agents.get(builderX)?.process.kill('SIGTERM');
    await eventually(
      () => api<{ online: boolean }>('GET', `/devices/${builderX}`),
      (device) => !device.body.online,
      { timeoutMs: 15_000, what: `${builderX} offline` },
    );
    const offline = await requestEngine({ gpuArch: 'sm_53', jetpack: '4.6.1', precision: 'fp32' });
    const offlineJob = await finished(offline.body.jobId);
    expect(offlineJob.body.failedReason).toBe(
      `no online engine builder of class sm_53 / TensorRT 8.2 / JetPack 4.6.1 / fp32 (offline: ${builderX})`,
    );
    expect(await buildJobsOf(builderX)).toHaveLength(1);
  }, 60_000);

  it('deletes engines uploaded by attempts that failed, keeping artifacts that something else refers to', async () => {
    // A builder at the protocol level (plain MQTT client with the device's credentials), so that it can upload an
    // engine and then fail the job: the real agent only uploads what it reports SUCCEEDED.
    const enrolment = await enrolDevice(setup.controlPlane.httpUrl, `uploading-failer-${uniqueSuffix()}`);
    const topics = new TopicScheme(enrolment.topicPrefix);
    const deviceId = enrolment.deviceId;
    const client = await connectAsDevice(enrolment);
    const notifications: JobNotifyNextMessage[] = [];
    client.on('message', (_topic, payload) => {
      if (payload.length > 0)
        notifications.push(JSON.parse(payload.toString('utf8')) as JobNotifyNextMessage);
    });
    await client.subscribeAsync(topics.topicFor({ kind: 'job-notify-next', deviceId }), { qos: 1 });
    const birth = buildPublication(
      topics,
      'birth',
      {
        v: PROTOCOL_VERSION,
        deviceId,
        bdSeq: 1,
        timestamp: Date.now(),
        agentVersion: '0.1.0',
        capabilities: {
          arch: 'arm64',
          os: { platform: 'linux', release: '4.9.140-tegra' },
          cpuCores: 4,
          memoryBytes: 8 * 1024 ** 3,
          detectorBackends: ['cpu'],
          engineBuilder: true,
          gpuArch: 'sm_62',
          tensorrtVersion: '7.1.3',
          simulated: true,
        },
        runningModel: null,
      },
      4,
    );
    await client.publishAsync(birth.topic, birth.payload, { qos: birth.qos, retain: birth.retain });
    const state = buildPublication(
      topics,
      'state',
      { v: PROTOCOL_VERSION, deviceId, state: 'online', bdSeq: 1, timestamp: Date.now() },
      4,
    );
    await client.publishAsync(state.topic, state.payload, { qos: state.qos, retain: state.retain });
    try {
      await eventually(
        () =>
          api<{ online: boolean; capabilities: { engineBuilder?: boolean } | null }>(
            'GET',
            `/devices/${deviceId}`,
          ),
        (device) => device.body.online && device.body.capabilities?.engineBuilder === true,
        { timeoutMs: 15_000, what: 'the protocol-level builder online' },
      );
      const report = async (
        jobId: string,
        status: 'IN_PROGRESS' | 'FAILED',
        expectedVersion: number,
        reason?: string,
      ) => {
        const update = buildPublication(
          topics,
          'job-update',
          {
            v: PROTOCOL_VERSION,
            deviceId,
            jobId,
            status,
            expectedVersion,
            statusDetails: reason === undefined ? { buildStage: 'UPLOADING' } : { reason },
            timestamp: Date.now(),
          },
          4,
        );
        await client.publishAsync(update.topic, update.payload, { qos: 1 });
      };
      const upload = async (url: string, bytes: Buffer) => {
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const response = await fetch(url, {
          method: 'PUT',
          headers: {
            authorization: `Basic ${Buffer.from(`${deviceId}:${enrolment.secret}`).toString('base64')}`,
            'content-type': 'application/octet-stream',
            'x-content-sha256': sha256,
          },
          body: bytes,
        });
        expect(response.status).toBe(201);
        return sha256;
      };
      const artifactStatus = async (sha256: string) =>
        (
          await fetch(`${setup.controlPlane.httpUrl}/artifacts/${sha256}`, {
            headers: { authorization: `Bearer ${testAdminToken}` },
          })
        ).status;
      const nextBuildJob = async (seen: Set<string>) => {
        const message = await eventually(
          () => Promise.resolve(notifications.at(-1)),
          (last) => last?.execution?.document.operation === 'build-engine' && !seen.has(last.execution.jobId),
          { timeoutMs: 30_000, intervalMs: 100, what: 'a new build-engine job' },
        );
        const execution = message?.execution;
        if (!execution) throw new Error('no build-engine job');
        seen.add(execution.jobId);
        return { jobId: execution.jobId, uploadUrl: String(execution.document.parameters.uploadUrl) };
      };

      const requested = await requestEngine({ gpuArch: 'sm_62', tensorrt: '7.1', precision: 'fp16' });
      expect(requested.status).toBe(202);
      const seen = new Set<string>();
      // Attempt 1 uploads bytes nothing else has, then fails: they are deleted.
      const first = await nextBuildJob(seen);
      await report(first.jobId, 'IN_PROGRESS', 1);
      const orphan = await upload(
        first.uploadUrl,
        Buffer.from(`fake engine of a failed attempt ${uniqueSuffix()}`),
      );
      expect(await artifactStatus(orphan)).toBe(200);
      await report(first.jobId, 'FAILED', 2, 'the protocol-level builder fails after uploading');
      // Attempt 2 uploads the bytes of the engine built in the first test (a succeeded build refers to them).
      const second = await nextBuildJob(seen);
      const builtSha =
        (await api<EngineBuildView>('GET', `/engine-builds/${builtKey}`)).body.engine?.sha256 ?? '';
      const builtBytes = Buffer.from(
        await (
          await fetch(`${setup.controlPlane.httpUrl}/artifacts/${builtSha}`, {
            headers: { authorization: `Bearer ${testAdminToken}` },
          })
        ).arrayBuffer(),
      );
      await report(second.jobId, 'IN_PROGRESS', 1);
      expect(await upload(second.uploadUrl, builtBytes)).toBe(builtSha);
      await report(second.jobId, 'FAILED', 2, 'the protocol-level builder fails again');

      const job = await finished(requested.body.jobId);
      expect(job.body).toMatchObject({ status: 'failed', attempts: 2 });
      expect(job.body.failedReason).toBe(
        `builder ${deviceId} failed: the protocol-level builder fails again`,
      );
      expect(job.body.logs.join('\n')).toContain(`deleted engine ${orphan}, uploaded by the failed attempt`);
      expect(job.body.logs.join('\n')).not.toContain(`deleted engine ${builtSha}`);
      expect(await artifactStatus(orphan)).toBe(404);
      expect(await artifactStatus(builtSha)).toBe(200);
      const build = await api<EngineBuildView>('GET', `/engine-builds/${requested.body.cacheKey}`);
      expect(build.body).toMatchObject({ status: 'failed', engine: null });
    } finally {
      await client.endAsync();
    }
  }, 120_000);

  it('refuses targets the toolchain refuses and versions that are not ready, naming the problem', async () => {
    const int8 = await requestEngine({ gpuArch: 'sm_53', tensorrt: '8.2', precision: 'int8' });
    expect(int8.status).toBe(422);
    expect(JSON.stringify(int8.body)).toContain(
      'precision: int8 is not available on sm_53 (Jetson TX1, Jetson Nano)',
    );
    const tx1OnJetpack5 = await requestEngine({ gpuArch: 'sm_53', jetpack: '5.1', precision: 'fp16' });
    expect(tx1OnJetpack5.status).toBe(422);
    expect(JSON.stringify(tx1OnJetpack5.body)).toContain('target: TensorRT 8.5 ships with JetPack');
    const unknown = await api('POST', `/models/00000000-0000-4000-8000-000000000000/engines`, {
      gpuArch: 'sm_53',
      tensorrt: '8.2',
      precision: 'fp16',
    });
    expect(unknown.status).toBe(404);
    const notAnId = await api('POST', '/models/tiny-engines/engines', {
      gpuArch: 'sm_53',
      tensorrt: '8.2',
      precision: 'fp16',
    });
    expect(notAnId.status).toBe(400);
    expect(JSON.stringify(notAnId.body)).toContain('must be a model version id');
  });
  it('runs engine builds in a worker-only process beside an api-only one', async () => {
    const builderZ = xavierBuilder;
    // The api on the port the agents know, without processors; the worker on its own port, without the API.
    const apiOnly = testConfig('external-services', {
      ...setup.environment,
      PORT: String(setup.config.http.port),
      EMOFLEET_ROLE: 'api',
    });
    setup.onClose(apiOnly.cleanup);
    await setup.restart(apiOnly.config);
    expect(() => setup.controlPlane.app.get(EngineBuildProcessor, { strict: false })).toThrow();

    const requested = await requestEngine({ gpuArch: 'sm_72', jetpack: '5.1', precision: 'fp16' });
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ cached: false, status: 'queued' });

    const workerOnly = testConfig('external-services', {
      ...setup.environment,
      EMOFLEET_ROLE: 'worker',
      HTTP_PUBLIC_URL: setup.controlPlane.httpUrl,
    });
    setup.onClose(workerOnly.cleanup);
    const worker = await startControlPlane(workerOnly.config, () => undefined);
    setup.onClose(() => worker.close());
    expect(worker.app.get(EngineBuildProcessor, { strict: false })).toBeInstanceOf(EngineBuildProcessor);

    const job = await finished(requested.body.jobId);
    expect(job.body.failedReason).toBeNull();
    expect(job.body.status).toBe('completed');
    expect(job.body.logs.join('\n')).toContain(
      `to builder ${builderZ} (sm_72 / TensorRT 8.5 / JetPack 5.1 / fp16)`,
    );
    const build = await api<EngineBuildView>('GET', `/engine-builds/${requested.body.cacheKey}`);
    expect(build.body).toMatchObject({ status: 'succeeded', builderDeviceId: builderZ });
    // The builder downloaded the ONNX export from, and uploaded the engine to, the api (HTTP_PUBLIC_URL).
    const artifact = await fetch(
      `${setup.controlPlane.httpUrl}/artifacts/${build.body.engine?.sha256 ?? ''}`,
      {
        headers: { authorization: `Bearer ${testAdminToken}` },
      },
    );
    expect(artifact.status).toBe(200);
  }, 120_000);
});
