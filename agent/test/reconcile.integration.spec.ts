import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger } from '../src/logger';
import { type DetectorAdapter } from '../src/detector';
import { ModelReconciler } from '../src/reconcile';
import { SlotStore, type InstalledModel } from '../src/slots';
import { ArtifactServerDouble } from './support/artifact-server-double';
import { JobServiceDouble } from './support/job-service-double';
import { desiredStateFor, grayPng, signingKeys, testBundle, testModelLoader } from './support/signed-models';
import { until } from './support/wait';

jest.setTimeout(30_000);

const DEVICE_ID = 'reconcile-device';
const SECRET = 'device-secret';

describe('model reconciliation against a local HTTP artifact server double and an in-memory job service double', () => {
  const keys = signingKeys();
  let dataDir: string;
  let server: ArtifactServerDouble;
  let jobs: JobServiceDouble;
  let reconciler: ModelReconciler;
  let running: { detector: DetectorAdapter | undefined; model: InstalledModel | null };

  function startReconciler(overrides: { maxStartsOnProbation?: number } = {}): Promise<void> {
    running = { detector: undefined, model: null };
    reconciler = new ModelReconciler({
      deviceId: DEVICE_ID,
      deviceSecret: SECRET,
      dataDir,
      slots: new SlotStore(path.join(dataDir, 'models')),
      channel: jobs,
      loader: testModelLoader,
      manifestPublicKey: keys.publicKeyPem,
      healthCheck: { frameWidth: 32, frameHeight: 32 },
      onModelChanged: (detector, model) => (running = { detector, model }),
      logger: silentLogger,
      ...overrides,
    });
    return reconciler.start();
  }

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-reconcile-'));
    server = await ArtifactServerDouble.start({ username: DEVICE_ID, password: SECRET });
    jobs = new JobServiceDouble(DEVICE_ID);
    await startReconciler();
  });

  afterEach(async () => {
    await reconciler.stop();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function install(
    modelId: string,
    desiredVersion: number,
    latencyMs = 0,
    jobId = `job-${desiredVersion}`,
    bundle = testBundle(latencyMs),
  ) {
    const artifact = server.add(bundle);
    jobs.sendDesired(
      desiredStateFor({
        deviceId: DEVICE_ID,
        desiredVersion,
        modelId,
        artifact,
        privateKeyPem: keys.privateKeyPem,
      }),
    );
    jobs.sendJob(jobId, 'apply-desired-state', { desiredVersion });
    await until(() => jobs.finalOf(jobId) !== undefined, `final status of ${jobId}`, 15_000);
    await reconciler.idle();
    return jobs.finalOf(jobId);
  }

  it('switches to a new model after download, verification, install and health check, reporting every step', async () => {
    const final = await install('model-a', 1);
    expect(final).toMatchObject({
      status: 'SUCCEEDED',
      statusDetails: { step: 'RUNNING', modelId: 'model-a' },
    });
    expect(final?.statusDetails.measuredFps).toBeGreaterThan(5);
    expect(jobs.stepsOf('job-1')).toEqual(
      expect.arrayContaining([
        'IN_PROGRESS/DOWNLOADING',
        'IN_PROGRESS/VERIFYING',
        'IN_PROGRESS/INSTALLING',
        'IN_PROGRESS/HEALTH_CHECK',
        'SUCCEEDED/RUNNING',
      ]),
    );
    // Every update was accepted: each carried the version the double answered last.
    expect(jobs.updates.map((u) => u.expectedVersion)).toEqual(jobs.updates.map((_, i) => i + 1));
    expect(running.model).toMatchObject({ modelId: 'model-a', slot: 'a' });
    expect(server.requests.every((r) => r.authorized)).toBe(true);
    const pointer = JSON.parse(fs.readFileSync(path.join(dataDir, 'models', 'current'), 'utf8'));
    expect(pointer.current.modelId).toBe('model-a');
    expect(fs.readdirSync(path.join(dataDir, 'downloads'))).toEqual([]);
  });

  it('sends download progress one report at a time, the latest offered next, each accepted at its first sending', async () => {
    // The answer to the first progress report is held (a slow broker round trip) until the whole download is
    // on disk, so every later quarter is offered while that report is in flight. Sent concurrently, two reports
    // would carry the same expected version: one is answered for the other and re-sent after its time-out.
    const bundle = testBundle(0, 4 * 1024 * 1024);
    const artifact = server.add(bundle);
    const partFile = path.join(dataDir, 'downloads', `${artifact.sha256}.part`);
    const release = jobs.holdAnswers(
      (update) =>
        update.statusDetails.step === 'DOWNLOADING' && (update.statusDetails.progress?.bytesDone ?? 0) > 0,
    );
    jobs.sendDesired(
      desiredStateFor({
        deviceId: DEVICE_ID,
        desiredVersion: 1,
        modelId: 'model-big',
        artifact,
        privateKeyPem: keys.privateKeyPem,
      }),
    );
    jobs.sendJob('job-1', 'apply-desired-state', { desiredVersion: 1 });
    await until(
      () => fs.existsSync(partFile) && fs.statSync(partFile).size === bundle.length,
      'the whole download on disk',
      15_000,
    );
    const progressWhileHeld = jobs.updates.filter((u) => u.statusDetails.progress !== undefined).length;
    release();
    await until(() => jobs.finalOf('job-1') !== undefined, 'final status of job-1', 15_000);
    await reconciler.idle();

    expect(jobs.finalOf('job-1')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { step: 'RUNNING' } });
    // While the first report awaited its answer nothing else was sent: the start (0 bytes) and that report.
    expect(progressWhileHeld).toBe(2);
    expect(jobs.updates.map((u) => u.expectedVersion)).toEqual(jobs.updates.map((_, i) => i + 1));
    const progress = jobs.updates
      .filter((u) => u.statusDetails.step === 'DOWNLOADING')
      .map((u) => u.statusDetails.progress?.bytesDone ?? -1);
    // Start, the first quarter crossed, then only the latest quarter offered meanwhile (the third).
    expect(progress).toHaveLength(3);
    expect(progress[0]).toBe(0);
    expect(Math.floor(((progress[1] ?? 0) * 4) / bundle.length)).toBe(1);
    expect(Math.floor(((progress[2] ?? 0) * 4) / bundle.length)).toBe(3);
  });

  it('keeps the running model when the new one fails its health check (FPS floor), reporting the measured FPS', async () => {
    await install('model-a', 1);
    const final = await install('model-slow', 2, 300);
    expect(final).toMatchObject({
      status: 'FAILED',
      statusDetails: { step: 'ROLLED_BACK', modelId: 'model-slow' },
    });
    expect(final?.statusDetails.reason).toMatch(/below the floor of 5.*kept model-a/);
    expect(final?.statusDetails.measuredFps).toBeLessThan(5);
    expect(running.model?.modelId).toBe('model-a');
    expect(reconciler.runningModel?.modelId).toBe('model-a');
  });

  it('rolls back to the previous slot on an explicit rollback job', async () => {
    await install('model-a', 1);
    await install('model-b', 2);
    expect(running.model).toMatchObject({ modelId: 'model-b', slot: 'b' });
    jobs.sendJob('job-rollback', 'rollback', { reason: 'operator says so' });
    await until(() => jobs.finalOf('job-rollback') !== undefined, 'rollback result');
    expect(jobs.finalOf('job-rollback')).toMatchObject({
      status: 'SUCCEEDED',
      statusDetails: { step: 'ROLLED_BACK', modelId: 'model-a' },
    });
    expect(running.model).toMatchObject({ modelId: 'model-a', slot: 'a' });
  });

  it('refuses a manifest whose signature does not verify, without downloading anything', async () => {
    await install('model-a', 1);
    const artifact = server.add(testBundle(0));
    const before = server.requests.length;
    jobs.sendDesired(
      desiredStateFor({
        deviceId: DEVICE_ID,
        desiredVersion: 2,
        modelId: 'model-evil',
        artifact,
        privateKeyPem: keys.privateKeyPem,
        overrides: { version: '6.6.6' },
      }),
    );
    jobs.sendJob('job-2', 'apply-desired-state', { desiredVersion: 2 });
    await until(() => jobs.finalOf('job-2') !== undefined, 'refusal');
    expect(jobs.finalOf('job-2')).toMatchObject({
      status: 'FAILED',
      statusDetails: { step: 'VERIFYING', reason: expect.stringMatching(/signature/) },
    });
    expect(server.requests.length).toBe(before);
    expect(running.model?.modelId).toBe('model-a');
  });

  it('refuses an artifact whose sha256 differs from the signed manifest and deletes it', async () => {
    const genuine = server.add(testBundle(0));
    const other = server.add(testBundle(0));
    // The control plane signed `genuine`, but the URL serves other bytes of the same size.
    jobs.sendDesired(
      desiredStateFor({
        deviceId: DEVICE_ID,
        desiredVersion: 1,
        modelId: 'model-a',
        artifact: { ...genuine, url: other.url },
        privateKeyPem: keys.privateKeyPem,
      }),
    );
    jobs.sendJob('job-1', 'apply-desired-state', { desiredVersion: 1 });
    await until(() => jobs.finalOf('job-1') !== undefined, 'refusal');
    expect(jobs.finalOf('job-1')?.statusDetails).toMatchObject({
      step: 'VERIFYING',
      reason: expect.stringMatching(/sha256 mismatch/),
    });
    expect(running.model).toBeNull();
    expect(fs.readdirSync(path.join(dataDir, 'downloads'))).toEqual([]);
  });

  it('refuses a download the free disk space cannot hold, naming both sizes', async () => {
    const artifact = server.add(testBundle(0));
    jobs.sendDesired(
      desiredStateFor({
        deviceId: DEVICE_ID,
        desiredVersion: 1,
        modelId: 'model-huge',
        artifact: { ...artifact, sizeBytes: 2 ** 52 },
        privateKeyPem: keys.privateKeyPem,
      }),
    );
    jobs.sendJob('job-1', 'apply-desired-state', { desiredVersion: 1 });
    await until(() => jobs.finalOf('job-1') !== undefined, 'refusal');
    expect(jobs.finalOf('job-1')?.statusDetails.reason).toMatch(
      /^needs \d+ bytes free for download and unpacking, \d+ available$/,
    );
  });

  it('rejects a job with an unknown operation or bad parameters, with the reason', async () => {
    jobs.sendJob('job-x', 'reboot-everything', {});
    jobs.sendJob('job-y', 'apply-desired-state', { desiredVersion: -1 });
    await until(
      () => jobs.finalOf('job-x') !== undefined && jobs.finalOf('job-y') !== undefined,
      'rejections',
    );
    expect(jobs.finalOf('job-x')).toMatchObject({
      status: 'REJECTED',
      statusDetails: { reason: expect.stringMatching(/unsupported-operation/) },
    });
    expect(jobs.finalOf('job-y')).toMatchObject({
      status: 'REJECTED',
      statusDetails: { reason: expect.stringMatching(/invalid-parameters.*desiredVersion/) },
    });
  });

  it('rejects an apply job whose desired state was malformed, with the validation detail; the model keeps running', async () => {
    await install('model-a', 1);
    jobs.sendMalformedDesired('schema-violation', 'model.sha256: must be 64 lower-case hex digits');
    jobs.sendJob('job-2', 'apply-desired-state', { desiredVersion: 2 });
    await until(() => jobs.finalOf('job-2') !== undefined, 'rejection');
    expect(jobs.finalOf('job-2')).toMatchObject({
      status: 'REJECTED',
      statusDetails: {
        reason: expect.stringMatching(/rejected: schema-violation: model\.sha256: must be 64/),
      },
    });
    expect(running.model?.modelId).toBe('model-a');
  });

  it('resumes a partial download with an HTTP Range request', async () => {
    const bundle = testBundle(0);
    const artifact = server.add(bundle);
    fs.mkdirSync(path.join(dataDir, 'downloads'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'downloads', `${artifact.sha256}.part`), bundle.subarray(0, 70_000));
    jobs.sendDesired(
      desiredStateFor({
        deviceId: DEVICE_ID,
        desiredVersion: 1,
        modelId: 'model-a',
        artifact,
        privateKeyPem: keys.privateKeyPem,
      }),
    );
    jobs.sendJob('job-1', 'apply-desired-state', { desiredVersion: 1 });
    await until(() => jobs.finalOf('job-1') !== undefined, 'install');
    expect(jobs.finalOf('job-1')?.status).toBe('SUCCEEDED');
    expect(server.requests.map((r) => r.range)).toEqual(['bytes=70000-']);
  });

  it('rolls back at start when the new model kept the agent from surviving its probation (crash loop)', async () => {
    await install('model-a', 1);
    await install('model-b', 2);
    await reconciler.stop();
    // Three starts that "died" before the probation ended: the fourth start rolls back.
    for (let start = 0; start < 4; start += 1) {
      await startReconciler({ maxStartsOnProbation: 3 });
      await reconciler.stop();
    }
    await startReconciler({ maxStartsOnProbation: 3 });
    expect(running.model).toMatchObject({ modelId: 'model-a', slot: 'a' });
    // Reported in every birth from now on …
    expect(reconciler.lastRollback).toMatchObject({
      model: { modelId: 'model-b', version: '1.0.0' },
      desiredVersion: 2,
      restoredModel: { modelId: 'model-a', version: '1.0.0' },
      reason: expect.stringMatching(/^crash loop: the agent started 4 times with model-b/),
    });
    // … and to the job of that desired state when it is (still) open, instead of installing model-b again.
    const downloadsBefore = server.requests.length;
    jobs.replayRetainedDesired();
    jobs.sendJob('job-2', 'apply-desired-state', { desiredVersion: 2 });
    await until(() => jobs.finalOf('job-2')?.status === 'FAILED', 'the rollback reported to job-2', 15_000);
    expect(jobs.finalOf('job-2')?.statusDetails).toMatchObject({
      step: 'ROLLED_BACK',
      modelId: 'model-b',
      reason: expect.stringMatching(/crash loop.*rolled back to model-a/),
    });
    expect(server.requests.length).toBe(downloadsBefore);
    expect(running.model?.modelId).toBe('model-a');
  });

  it('reports accuracy and mAP@0.5 on the eval set from the health check and from an evaluate job', async () => {
    // The synthetic detector sees one "Happiness" face at (0.1, 0.25, 0.25 x 0.3) in frames 0-2 (scores 0.80,
    // 0.81, 0.82). Ground truth: Happiness, Happiness, Sadness at that place → accuracy 2/3; Happiness AP:
    // ranked FP (image c, 0.82), TP, TP of 2 boxes → 2/3; Sadness AP 0 → mAP@0.5 = 1/3.
    const label = (classId: number) => `${classId} 0.225 0.4 0.25 0.3\n`;
    const png = grayPng();
    const bundle = testBundle(0, 200_000, {
      'eval/a.png': png,
      'eval/a.txt': label(0),
      'eval/b.png': png,
      'eval/b.txt': label(0),
      'eval/c.png': png,
      'eval/c.txt': label(1),
    });
    const final = await install('model-eval', 1, 0, 'job-1', bundle);
    expect(final).toMatchObject({ status: 'SUCCEEDED', statusDetails: { step: 'RUNNING' } });
    expect(final?.statusDetails.measuredAccuracy).toBeCloseTo(2 / 3, 12);
    expect(final?.statusDetails.measuredMap50).toBeCloseTo(1 / 3, 12);
    expect(reconciler.map50).toBeCloseTo(1 / 3, 12);

    jobs.sendJob('job-eval', 'evaluate', {});
    await until(() => jobs.finalOf('job-eval') !== undefined, 'evaluate result', 15_000);
    expect(jobs.finalOf('job-eval')).toMatchObject({
      status: 'SUCCEEDED',
      statusDetails: { modelId: 'model-eval' },
    });
    expect(jobs.finalOf('job-eval')?.statusDetails.measuredAccuracy).toBeCloseTo(2 / 3, 12);
    expect(jobs.finalOf('job-eval')?.statusDetails.measuredMap50).toBeCloseTo(1 / 3, 12);
  });
});
