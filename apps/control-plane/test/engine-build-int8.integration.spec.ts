/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { engineCacheKey, tensorRtCalibrationCache } from '@emofleet/darknet';
import { ARTIFACT_STORE, type ArtifactStore } from '../src/artifacts/artifact-store';
import { ModelsRepository } from '../src/models/models.repository';
import { TRTEXEC_DOUBLE } from './support/builder-agent';
import {
  ENGINE_BUILD_NETWORK as NETWORK,
  type EngineBuildSetup,
  startEngineBuildSetup,
} from './support/engine-build-setup';
import { type Enrolment, enrolDevice } from './support/enrolment';
import { eventually } from './support/eventually';
import { testAdminToken, uniqueSuffix } from './support/test-environment';

/**
 * A TensorRT 8.2.1 calibration cache of this network, written by libs/darknet as the quantize job writes it (the
 * ranges are made up: no TensorRT reads it here).
 */
const CALIBRATION_CACHE = Buffer.from(
  tensorRtCalibrationCache(
    NETWORK,
    {
      input: { min: 0, max: 1 },
      layers: NETWORK.layers.map((_, index) => ({
        index,
        output: { min: -0.5, max: 1 + index },
        preActivation: { min: -2 - index, max: 1.5 + index },
      })),
    },
    '8.2.1',
  ),
);
const CALIBRATION_SHA256 = createHash('sha256').update(CALIBRATION_CACHE).digest('hex');

interface EngineBuildView {
  cacheKey: string;
  jobId: string;
  status: string;
  target: { gpuArch: string; tensorrt: string; jetpack: string | null; precision: string };
  plan: { commandLine: string };
  inputSha256: string;
  builderDeviceId: string | null;
  deviceJobId: string | null;
  engine: { sha256: string } | null;
}
interface JobView {
  status: string;
  logs: string[];
  failedReason: string | null;
}

/**
 * The trtexec TEST DOUBLE behind a wrapper that records its arguments (one a line) and a copy of the `--calib`
 * file as trtexec found it, then waits for `release` (so the test can look at the running build), then runs the
 * double, which writes a fake engine naming its arguments.
 */
function recordingDouble(directory: string): {
  command: string;
  args: string;
  calib: string;
  release: string;
} {
  const paths = {
    command: join(directory, 'trtexec'),
    args: join(directory, 'args.txt'),
    calib: join(directory, 'calib-as-trtexec-saw-it'),
    release: join(directory, 'release'),
  };
  writeFileSync(
    paths.command,
    [
      '#!/bin/sh',
      '# Records what the TEST DOUBLE of trtexec is given, waits for the test, then runs the double.',
      'for argument in "$@"; do',
      `  case "$argument" in --calib=*) cp "\${argument#--calib=}" '${paths.calib}' ;; esac`,
      `  printf '%s\\n' "$argument" >> '${paths.args}.part'`,
      'done',
      `mv '${paths.args}.part' '${paths.args}'`,
      'waited=0',
      `while [ ! -f '${paths.release}' ] && [ "$waited" -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done`,
      `exec '${TRTEXEC_DOUBLE}' "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return paths;
}

/**
 * INT8 engine builds end to end against real PostgreSQL, Redis and Mosquitto, built by a real agent process
 * (agent/dist) that claims a Xavier class (`--claim-device-class`, test-only) and runs the trtexec TEST DOUBLE
 * through a recording wrapper. The version goes upload → convert → benchmark → ready; its calibration cache is
 * stored like the quantize job stores it (artifact store + ModelsRepository.putFile, role
 * `tensorrt-calibration-cache`), so this test does not spend minutes calibrating.
 */
describe('int8 engine builds with a calibration cache (test double of trtexec)', () => {
  let setup: EngineBuildSetup;
  let versionId: string;
  let onnxSha256: string;
  let recorder: ReturnType<typeof recordingDouble>;

  const api = <T>(method: string, path: string, body?: unknown) => setup.api<T>(method, path, body);
  const requestEngine = (body: Record<string, unknown>) =>
    api<EngineBuildView & { error?: { message: string } }>('POST', `/models/${versionId}/engines`, body);
  const basic = (enrolment: Enrolment) =>
    `Basic ${Buffer.from(`${enrolment.deviceId}:${enrolment.secret}`).toString('base64')}`;

  beforeAll(async () => {
    setup = await startEngineBuildSetup({
      model: 'tiny-int8',
      weightsSeed: 2027,
      engineBuild: {
        ENGINE_BUILD_TIMEOUT_MS: '60000',
        ENGINE_BUILD_ATTEMPTS: '1',
        ENGINE_BUILD_POLL_MS: '250',
      },
    });
    versionId = setup.versionId;
    const wrapperDir = mkdtempSync(join(tmpdir(), 'emofleet-int8-trtexec-'));
    setup.onClose(() => rmSync(wrapperDir, { recursive: true, force: true }));
    recorder = recordingDouble(wrapperDir);
    const onnx = (await setup.controlPlane.app.get(ModelsRepository).filesOf(versionId)).find(
      (file) => file.role === 'onnx',
    );
    onnxSha256 = onnx?.sha256 ?? '';
  }, 420_000);

  afterAll(async () => {
    await setup?.close();
  }, 30_000);

  /** Runs the real agent claiming a Xavier with JetPack 4.6.1 (TensorRT 8.2.1), the recording double its builder. */
  async function startXavierBuilder(): Promise<Enrolment> {
    const builder = await setup.startBuilder('xavier-int8', 'gpuArch=sm_72,tensorrt=8.2.1,jetpack=4.6.1', {
      command: recorder.command,
    });
    return builder.enrolment;
  }

  it('refuses int8 for a version without a calibration cache, saying to run the quantize job first', async () => {
    const refused = await requestEngine({ gpuArch: 'sm_72', jetpack: '4.6.1', precision: 'int8' });
    expect(refused.status).toBe(422);
    expect(refused.body.error?.message).toBe(
      'precision: int8 needs a TensorRT calibration cache and model version tiny-int8@1 has none; run ' +
        'POST /models/tiny-int8/versions/1/quantize first (it calibrates the version and stores its ' +
        'tensorrt-calibration-cache), then request the int8 engine again',
    );
    const builds = await api<{ items: unknown[] }>('GET', `/models/${versionId}/engines`);
    expect(builds.body.items).toEqual([]);
  });

  it('refuses int8 on GPU archs without INT8 in TensorRT (sm_53 TX1/Nano, sm_62 TX2)', async () => {
    const tx1 = await requestEngine({ gpuArch: 'sm_53', jetpack: '4.6.1', precision: 'int8' });
    expect(tx1.status).toBe(422);
    expect(tx1.body.error?.message).toBe(
      'precision: int8 is not available on sm_53 (Jetson TX1, Jetson Nano): TensorRT has INT8 kernels from ' +
        'compute capability 6.1 on, except 6.2; build fp16 there, or int8 for sm_72 (Jetson AGX Xavier, ' +
        'Jetson Xavier NX), sm_87 (Jetson AGX Orin, Jetson Orin NX, Jetson Orin Nano)',
    );
    const tx2 = await requestEngine({ gpuArch: 'sm_62', jetpack: '4.6.1', precision: 'int8' });
    expect(tx2.status).toBe(422);
    expect(tx2.body.error?.message).toMatch(/^precision: int8 is not available on sm_62 \(Jetson TX2\)/);
  });

  it('builds an int8 engine through a builder agent, which gets the verified cache beside the model', async () => {
    // As the quantize job stores it: the bytes in the artifact store, the file on the version.
    const store = setup.controlPlane.app.get<ArtifactStore>(ARTIFACT_STORE);
    const stored = await store.put(Readable.from([CALIBRATION_CACHE]), { maxBytes: 1024 * 1024 });
    await setup.controlPlane.app.get(ModelsRepository).putFile(versionId, {
      role: 'tensorrt-calibration-cache',
      fileName: 'calibration.cache',
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
    });
    expect(stored.sha256).toBe(CALIBRATION_SHA256);

    // The sm_53 refusal does not depend on the cache; a TensorRT other than the cache's is refused.
    const tx1 = await requestEngine({ gpuArch: 'sm_53', jetpack: '4.6.1', precision: 'int8' });
    expect(tx1.status).toBe(422);
    const orin = await requestEngine({ gpuArch: 'sm_87', jetpack: '5.1', precision: 'int8' });
    expect(orin.status).toBe(422);
    expect(orin.body.error?.message).toBe(
      "precision: the version's calibration cache was written for TensorRT 8.2 (header " +
        'TRT-8201-EntropyCalibration2), and TensorRT uses a cache only with the release that wrote it; this ' +
        'target builds with TensorRT 8.5: request int8 for a TensorRT 8.2 class, or build fp16',
    );

    const xavier = await startXavierBuilder();
    const requested = await requestEngine({ gpuArch: 'sm_72', jetpack: '4.6.1', precision: 'int8' });
    expect(requested.status).toBe(202);
    const key = requested.body.cacheKey;
    const calibName = `calibration-${CALIBRATION_SHA256}.cache`;
    expect(requested.body).toMatchObject({
      status: 'queued',
      target: { gpuArch: 'sm_72', tensorrt: '8.2', jetpack: '4.6.1', precision: 'int8' },
    });
    expect(requested.body.plan.commandLine).toBe(
      `trtexec --onnx=model.onnx --saveEngine=./${key}.engine --workspace=256 --int8 --calib=${calibName}`,
    );
    // The cache key covers the precision and the calibration cache.
    expect(key).toBe(engineCacheKey(onnxSha256, 'sm_72', '8.2', 'int8', CALIBRATION_SHA256));
    expect(key).not.toBe(engineCacheKey(onnxSha256, 'sm_72', '8.2', 'int8'));
    expect(key).not.toBe(engineCacheKey(onnxSha256, 'sm_72', '8.2', 'fp16'));

    // While trtexec (the double) waits: it has the cache, and only the builder may download it.
    await eventually(
      () => Promise.resolve(existsSync(recorder.args)),
      (present) => present,
      { timeoutMs: 60_000, intervalMs: 100, what: 'the builder running trtexec' },
    );
    expect(readFileSync(recorder.args, 'utf8').trim().split('\n')).toEqual([
      '--onnx=model.onnx',
      `--saveEngine=./${key}.engine`,
      '--workspace=256',
      '--int8',
      `--calib=${calibName}`,
    ]);
    expect(readFileSync(recorder.calib).equals(CALIBRATION_CACHE)).toBe(true);
    const building = await api<EngineBuildView>('GET', `/engine-builds/${key}`);
    const deviceJob = await api<{ parameters: Record<string, unknown> }>(
      'GET',
      `/device-jobs/${building.body.deviceJobId ?? ''}`,
    );
    const cacheUrl = `${setup.controlPlane.httpUrl}/engine-builds/${key}/calibration-cache`;
    expect(deviceJob.body.parameters).toMatchObject({
      target: { precision: 'int8' },
      calibrationCache: {
        format: 'tensorrt-calibration-cache',
        sha256: CALIBRATION_SHA256,
        sizeBytes: CALIBRATION_CACHE.length,
        url: cacheUrl,
      },
    });
    const asBuilder = await fetch(cacheUrl, { headers: { authorization: basic(xavier) } });
    expect(asBuilder.status).toBe(200);
    expect(Buffer.from(await asBuilder.arrayBuffer()).equals(CALIBRATION_CACHE)).toBe(true);
    const other = await enrolDevice(setup.controlPlane.httpUrl, `not-the-builder-${uniqueSuffix()}`);
    const asOther = await fetch(cacheUrl, { headers: { authorization: basic(other) } });
    expect(asOther.status).toBe(403);
    const asOperator = await fetch(cacheUrl, { headers: { authorization: `Bearer ${testAdminToken}` } });
    expect(asOperator.status).toBe(403);

    writeFileSync(recorder.release, '');
    const job = await eventually(
      () => api<JobView>('GET', `/jobs/${requested.body.jobId}`),
      (job) => job.body.status === 'completed' || job.body.status === 'failed',
      { timeoutMs: 60_000, intervalMs: 200, what: 'the int8 build finished' },
    );
    expect(job.body.failedReason).toBeNull();
    expect(job.body.status).toBe('completed');
    expect(job.body.logs.join('\n')).toContain(
      `to builder ${xavier.deviceId} (sm_72 / TensorRT 8.2 / JetPack 4.6.1 / int8)`,
    );
    const built = await api<EngineBuildView>('GET', `/engine-builds/${key}`);
    expect(built.body).toMatchObject({ status: 'succeeded', builderDeviceId: xavier.deviceId });
    const engine = await fetch(`${setup.controlPlane.httpUrl}/artifacts/${built.body.engine?.sha256 ?? ''}`, {
      headers: { authorization: `Bearer ${testAdminToken}` },
    });
    const engineText = await engine.text();
    expect(engineText).toContain('emofleet trtexec TEST DOUBLE engine: NOT a TensorRT engine');
    expect(engineText).toContain(`--int8 --calib=${calibName}`);
    // The build is over: not even the builder may download the cache now.
    expect((await fetch(cacheUrl, { headers: { authorization: basic(xavier) } })).status).toBe(403);

    // A second request is answered from the cache; fp16 for the same class is another key.
    const again = await requestEngine({ gpuArch: 'sm_72', jetpack: '4.6.1', precision: 'int8' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ cacheKey: key, cached: true });
  }, 180_000);
});
