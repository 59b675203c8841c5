import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  builtEngineSchema,
  calibrationCacheFileName,
  signEngineBuild,
  type BuildEngineParameters,
  type DeviceCapabilities,
  type DeviceReportableJobStatus,
  type JobStatusDetails,
} from '@emofleet/protocol';
import { EngineBuildServerDouble } from '../../test/support/engine-build-server-double';
import { signingKeys } from '../../test/support/signed-models';
import { type Logger } from '../logger';
import { deviceClassMismatch, EngineBuilder } from './engine-builder';

/** The trtexec TEST DOUBLE (no TensorRT on this machine): prints trtexec's layout, writes a fake engine. */
const TRTEXEC_DOUBLE = path.resolve(__dirname, '../../test/support/trtexec-test-double.sh');
const DEVICE = { username: 'jetson-builder-1', password: 'builder-secret' };
const CACHE_KEY = 'c'.repeat(64);
const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A TX1 class device with JetPack 4.6.1 (TensorRT 8.2.1). */
const TX1: DeviceCapabilities = {
  arch: 'arm64',
  os: { platform: 'linux', release: '4.9.253-tegra' },
  jetpackVersion: '4.6.1',
  tensorrtVersion: '8.2.1-1+cuda10.2',
  gpuArch: 'sm_53',
  cpuCores: 4,
  memoryBytes: 4_294_967_296,
  detectorBackends: [],
  simulated: false,
  engineBuilder: true,
};

interface Report {
  status: DeviceReportableJobStatus;
  details: JobStatusDetails;
  /** Sent while another update still waited for its answer. */
  overlapping?: boolean;
}

describe('EngineBuilder with the trtexec test double', () => {
  const keys = signingKeys();
  let server: EngineBuildServerDouble;
  let dataDir: string;
  let model: { sha256: string; sizeBytes: number; url: string };
  const scripts: string[] = [];

  beforeAll(async () => {
    server = await EngineBuildServerDouble.start(DEVICE);
    model = server.add(randomBytes(300_000));
  });
  afterAll(async () => {
    await server.close();
    for (const script of scripts) fs.rmSync(path.dirname(script), { recursive: true, force: true });
  });
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-engine-builder-'));
    server.refuseUploads = false;
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  function order(
    overrides: Partial<BuildEngineParameters> = {},
    key = keys.privateKeyPem,
  ): BuildEngineParameters {
    const unsigned = {
      modelVersionId: 'version-1',
      cacheKey: CACHE_KEY,
      target: { gpuArch: 'sm_53', tensorrt: '8.2', jetpack: '4.6.1', precision: 'fp16' as const },
      source: { format: 'onnx' as const, ...model },
      trtexecArgs: ['--onnx=model.onnx', `--saveEngine=./${CACHE_KEY}.engine`, '--workspace=256', '--fp16'],
      uploadUrl: `${server.baseUrl}/engine-builds/${CACHE_KEY}/engine`,
      ...overrides,
    };
    return { ...unsigned, signature: signEngineBuild(unsigned, key) };
  }

  /** The double behind a wrapper that sets its environment (the agent passes its own environment on). */
  function doubleWith(environment: Record<string, string>): string {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-trtexec-wrapper-'));
    const script = path.join(directory, 'trtexec');
    const assignments = Object.entries(environment)
      .map(([name, value]) => `${name}='${value}'`)
      .join(' ');
    fs.writeFileSync(script, `#!/bin/sh\nexec env ${assignments} '${TRTEXEC_DOUBLE}' "$@"\n`, {
      mode: 0o755,
    });
    scripts.push(script);
    return script;
  }

  async function build(
    parameters: BuildEngineParameters,
    options: {
      command?: string | null;
      capabilities?: DeviceCapabilities;
      publicKey?: string | null;
    } = {},
  ): Promise<Report[]> {
    const reports: Report[] = [];
    const builder = new EngineBuilder({
      deviceId: DEVICE.username,
      deviceSecret: DEVICE.password,
      dataDir,
      command: options.command === undefined ? TRTEXEC_DOUBLE : options.command,
      capabilities: options.capabilities ?? TX1,
      manifestPublicKey: options.publicKey === undefined ? keys.publicKeyPem : options.publicKey,
      uploadRetryDelaysMs: [10, 10, 10],
      logger: silent,
    });
    let inFlight = 0;
    await builder.build(parameters, {
      // Like the real reporter, an update waits for its answer; updates must not overlap.
      report: async (status, details) => {
        inFlight += 1;
        reports.push({ status, details, overlapping: inFlight > 1 });
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
      },
    });
    return reports;
  }

  /** `status/step-or-stage` of each report, repeats (download progress) collapsed. */
  const stages = (reports: Report[]) =>
    reports
      .map(({ status, details }) => `${status}/${details.step ?? details.buildStage ?? '-'}`)
      .filter((stage, index, all) => stage !== all[index - 1]);

  it('downloads, builds, uploads the engine and reports its digest and trtexec timing', async () => {
    const engineCount = server.engines.length;
    const reports = await build(order());
    expect(stages(reports)).toEqual([
      'IN_PROGRESS/DOWNLOADING',
      'IN_PROGRESS/VERIFYING',
      'IN_PROGRESS/BUILDING',
      'IN_PROGRESS/UPLOADING',
      'SUCCEEDED/-',
    ]);
    expect(reports.filter((report) => report.overlapping)).toEqual([]);
    const downloaded = reports.flatMap(({ details }) => details.progress?.bytesDone ?? []);
    expect(downloaded[0]).toBe(0);
    expect(downloaded.length).toBeGreaterThan(1);
    expect([...downloaded].sort((a, b) => a - b)).toEqual(downloaded);
    const uploaded = server.engines[engineCount];
    expect(uploaded?.path).toBe(`/engine-builds/${CACHE_KEY}/engine`);
    expect(uploaded?.content.toString()).toContain(
      'emofleet trtexec TEST DOUBLE engine: NOT a TensorRT engine',
    );
    expect(uploaded?.content.toString()).toContain(`onnx-sha256: ${model.sha256}`);
    const final = reports[reports.length - 1]?.details;
    expect(builtEngineSchema.parse(final?.engine)).toEqual({
      sha256: createHash('sha256')
        .update(uploaded?.content ?? '')
        .digest('hex'),
      sizeBytes: uploaded?.content.length,
      buildMs: expect.any(Number) as number,
      tensorrtVersion: '8.2.1',
      timing: {
        throughputQps: 61.4986,
        latencyMs: {
          min: 15.9141,
          max: 18.2346,
          mean: 16.2212,
          median: 16.1094,
          p90: 16.5391,
          p95: 16.8047,
          p99: 17.9063,
        },
        gpuComputeMs: {
          min: 15.6016,
          max: 17.8516,
          mean: 15.8887,
          median: 15.7813,
          p90: 16.1953,
          p95: 16.4531,
          p99: 17.5313,
        },
        totalHostWalltimeSeconds: 3.02446,
      },
    });
    expect(final?.logTail).toContain('THIS IS A TEST DOUBLE of trtexec');
    expect(final?.logTail).toContain('&&&& PASSED');
    expect(fs.existsSync(path.join(dataDir, 'engine-builds', CACHE_KEY))).toBe(false);
  });

  it('reports FAILED with the tail of the builder output when trtexec fails', async () => {
    const reports = await build(order(), {
      command: doubleWith({ EMOFLEET_TRTEXEC_DOUBLE_FAIL: 'unsupported op' }),
    });
    expect(stages(reports)).toEqual([
      'IN_PROGRESS/DOWNLOADING',
      'IN_PROGRESS/VERIFYING',
      'IN_PROGRESS/BUILDING',
      'FAILED/-',
    ]);
    const failed = reports[reports.length - 1]?.details;
    expect(failed?.reason).toBe('trtexec exited with code 1');
    expect(failed?.logTail).toContain('failing as EMOFLEET_TRTEXEC_DOUBLE_FAIL asks: unsupported op');
    expect(failed?.logTail).toContain('&&&& FAILED');
  });

  it('fails when the builder runs another TensorRT than the job asks for', async () => {
    const reports = await build(order(), {
      command: doubleWith({ EMOFLEET_TRTEXEC_DOUBLE_VERSION: '8001' }),
    });
    expect(reports[reports.length - 1]).toMatchObject({
      status: 'FAILED',
      details: { reason: 'the builder ran TensorRT 8.0.1; the job is for TensorRT 8.2' },
    });
  });

  it('fails, naming the digest, when the downloaded model is not the one ordered', async () => {
    const reports = await build(order({ source: { format: 'onnx', ...model, sha256: 'f'.repeat(64) } }));
    expect(reports[reports.length - 1]?.status).toBe('FAILED');
    expect(reports[reports.length - 1]?.details.reason).toMatch(/^download of the ONNX model: /);
  });

  it('uploads again while the control plane answers 5xx (e.g. restarting)', async () => {
    const before = { attempts: server.uploadAttempts, engines: server.engines.length };
    server.failNextUploads = 2;
    const reports = await build(order());
    expect(reports[reports.length - 1]?.status).toBe('SUCCEEDED');
    expect(server.uploadAttempts - before.attempts).toBe(3);
    expect(server.engines.length - before.engines).toBe(1);
  });

  it('fails with the control plane message when the upload is refused, without trying again', async () => {
    server.refuseUploads = true;
    const attemptsBefore = server.uploadAttempts;
    const reports = await build(order());
    expect(server.uploadAttempts - attemptsBefore).toBe(1);
    expect(reports[reports.length - 1]?.details.reason).toMatch(
      /^upload: PUT http:\/\/127\.0\.0\.1:\d+\/engine-builds\/c+\/engine answered HTTP 403: device jetson-builder-1 has no running build-engine job for this key$/,
    );
  });

  /**
   * The trtexec TEST DOUBLE behind a wrapper that records what it was given: its arguments (one a line) and a
   * copy of the `--calib` file as it was in the build directory when trtexec started.
   */
  function recordingDouble(): { command: string; argsFile: string; calibCopy: string } {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-trtexec-recorder-'));
    const script = path.join(directory, 'trtexec');
    const argsFile = path.join(directory, 'args.txt');
    const calibCopy = path.join(directory, 'calib-as-trtexec-saw-it');
    fs.writeFileSync(
      script,
      [
        '#!/bin/sh',
        '# Records the arguments and the --calib file, then runs the trtexec TEST DOUBLE.',
        `: > '${argsFile}'`,
        'for argument in "$@"; do',
        `  printf '%s\\n' "$argument" >> '${argsFile}'`,
        `  case "$argument" in --calib=*) cp "\${argument#--calib=}" '${calibCopy}' ;; esac`,
        'done',
        `exec '${TRTEXEC_DOUBLE}' "$@"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    scripts.push(script);
    return { command: script, argsFile, calibCopy };
  }

  /** A TensorRT 8.2.1 calibration cache in IInt8EntropyCalibrator2's text layout (content is arbitrary here). */
  const CALIBRATION_CACHE = Buffer.from('TRT-8201-EntropyCalibration2\ninput: 3c010a14\nlayer0: 3d8a3bc2\n');
  const XAVIER: DeviceCapabilities = { ...TX1, gpuArch: 'sm_72' };

  function int8Order(cache: { sha256: string; sizeBytes: number; url: string }): BuildEngineParameters {
    return order({
      target: { gpuArch: 'sm_72', tensorrt: '8.2', jetpack: '4.6.1', precision: 'int8' },
      calibrationCache: { format: 'tensorrt-calibration-cache', ...cache },
      trtexecArgs: [
        '--onnx=model.onnx',
        `--saveEngine=./${CACHE_KEY}.engine`,
        '--workspace=256',
        '--int8',
        `--calib=${calibrationCacheFileName(cache.sha256)}`,
      ],
    });
  }

  it('int8 (trtexec test double): downloads and verifies the calibration cache beside the model, passes --int8 --calib', async () => {
    const cache = server.add(CALIBRATION_CACHE);
    const recorder = recordingDouble();
    const engineCount = server.engines.length;
    const reports = await build(int8Order(cache), { command: recorder.command, capabilities: XAVIER });
    expect(reports[reports.length - 1]?.status).toBe('SUCCEEDED');
    expect(stages(reports)).toEqual([
      'IN_PROGRESS/DOWNLOADING',
      'IN_PROGRESS/VERIFYING',
      'IN_PROGRESS/BUILDING',
      'IN_PROGRESS/UPLOADING',
      'SUCCEEDED/-',
    ]);
    expect(reports.find((report) => report.details.step === 'VERIFYING')?.details.reason).toBe(
      'build order signature, model and calibration cache size and sha256 verified',
    );
    const calibName = `calibration-${cache.sha256}.cache`;
    expect(fs.readFileSync(recorder.argsFile, 'utf8').split('\n')).toEqual([
      '--onnx=model.onnx',
      `--saveEngine=./${CACHE_KEY}.engine`,
      '--workspace=256',
      '--int8',
      `--calib=${calibName}`,
      '',
    ]);
    expect(fs.readFileSync(recorder.calibCopy)).toEqual(CALIBRATION_CACHE);
    expect(server.engines[engineCount]?.content.toString()).toContain(`--int8 --calib=${calibName}`);
    expect(fs.existsSync(path.join(dataDir, 'engine-builds', CACHE_KEY))).toBe(false);
  });

  it('int8 (trtexec test double): fails before running trtexec when the calibration cache has another sha256', async () => {
    const served = server.add(Buffer.from('TRT-8201-EntropyCalibration2\ninput: 00000000\n'));
    const claimed = createHash('sha256').update(CALIBRATION_CACHE).digest('hex');
    const recorder = recordingDouble();
    const reports = await build(
      int8Order({ sha256: claimed, sizeBytes: served.sizeBytes, url: served.url }),
      { command: recorder.command, capabilities: XAVIER },
    );
    expect(stages(reports)).toEqual(['IN_PROGRESS/DOWNLOADING', 'FAILED/-']);
    expect(reports[reports.length - 1]?.details.reason).toBe(
      `download of the calibration cache: sha256 mismatch: the file has ${served.sha256}, the manifest says ${claimed}`,
    );
    expect(fs.existsSync(recorder.argsFile)).toBe(false);
  });

  it('int8 (trtexec test double): fails naming the calibration cache when it cannot be downloaded', async () => {
    const missing = createHash('sha256').update('not served').digest('hex');
    const reports = await build(
      int8Order({ sha256: missing, sizeBytes: 40, url: `${server.baseUrl}/artifacts/${missing}` }),
      { capabilities: XAVIER },
    );
    expect(reports[reports.length - 1]?.details.reason).toMatch(
      /^download of the calibration cache: GET http:\/\/127\.0\.0\.1:\d+\/artifacts\/[0-9a-f]{64} answered HTTP 404$/,
    );
  });

  it.each<[string, () => Parameters<typeof build>, string]>([
    [
      'a device without a builder',
      () => [order(), { command: null }],
      'this device has no engine builder (trtexec not found; set --engine-builder)',
    ],
    [
      'an order signed by another key',
      () => [order({}, signingKeys().privateKeyPem)],
      'the build order signature does not verify',
    ],
    [
      'a device that is not enrolled',
      () => [order(), { publicKey: null }],
      'no manifest public key is pinned',
    ],
    [
      'a device of another class',
      () => [order(), { capabilities: { ...TX1, gpuArch: 'sm_62' } }],
      'this device is sm_62, TensorRT 8.2.1-1+cuda10.2; the job is for sm_53, TensorRT 8.2',
    ],
  ])('rejects the job on %s, before downloading anything', async (_what, args, reason) => {
    const reports = await build(...args());
    expect(reports).toEqual([
      {
        status: 'REJECTED',
        details: { reason: expect.stringContaining(reason) as string },
        overlapping: false,
      },
    ]);
  });
});

describe('deviceClassMismatch', () => {
  const target = { gpuArch: 'sm_53', tensorrt: '8.2', precision: 'fp16' as const };
  it('matches on GPU arch and TensorRT major.minor, and JetPack when the job names one', () => {
    expect(deviceClassMismatch(TX1, target)).toBeUndefined();
    expect(deviceClassMismatch(TX1, { ...target, jetpack: '4.6.1' })).toBeUndefined();
    expect(deviceClassMismatch(TX1, { ...target, jetpack: '4.6.2' })).toBe(
      'this device runs JetPack 4.6.1; the job is for JetPack 4.6.2',
    );
    expect(deviceClassMismatch({ ...TX1, tensorrtVersion: undefined }, target)).toBe(
      'this device is sm_53, TensorRT not installed; the job is for sm_53, TensorRT 8.2',
    );
  });
});
