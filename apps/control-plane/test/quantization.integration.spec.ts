/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertFaceapiModels, locateFaceapiPackage, serialiseWeights } from '@emofleet/darknet';
import { parseInt8Plan } from '@emofleet/detector';
import { decode as decodeJpeg, encode as encodeJpeg } from 'jpeg-js';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { eventually } from './support/eventually';
import { apiCaller, createRoleToken, tarArchive, uploadForm, zipArchive } from './support/model-uploads';
import { removeScheduledQueues } from './support/queue-cleanup';
import { createTestDatabase, testConfig, CONTROL_PLANE_START_TIMEOUT_MS } from './support/test-environment';

// A real network on real images: face-api's pretrained tiny face detector (imported by libs/darknet from the
// installed @vladmandic/face-api package) and its six demo photos. Its FP32 detections are confident (scores
// 0.7-0.95 on every photo), so a representative calibration demonstrably keeps them, and a deliberately bad one
// (uniform grey frames: every activation range collapses) demonstrably loses them.
const ADMIN_TOKEN = `emf_test_admin_${'q'.repeat(40)}`;
const FACEAPI = locateFaceapiPackage();
const DETECTOR = convertFaceapiModels(FACEAPI.modelDir).detector;
const CFG = Buffer.from(DETECTOR.cfgText);
const WEIGHTS = Buffer.from(serialiseWeights(DETECTOR.network, DETECTOR.weights));
const NAMES = Buffer.from('face\n');
const DETECTOR_FILES = {
  cfg: { content: CFG, filename: 'tiny-face-detector.cfg' },
  weights: { content: WEIGHTS, filename: 'tiny-face-detector.weights' },
  names: { content: NAMES, filename: 'tiny-face-detector.names' },
};

interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A photo padded with black to a square at the bottom/right (face-api's preparation, so letterboxing is a resize). */
function squarePhoto(path: string, mirror: boolean): RgbImage {
  const image = decodeJpeg(readFileSync(path), { useTArray: true, formatAsRGBA: false });
  const side = Math.max(image.width, image.height);
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < image.height; y += 1) {
    for (let x = 0; x < image.width; x += 1) {
      const from = (y * image.width + (mirror ? image.width - 1 - x : x)) * 3;
      data.set(image.data.subarray(from, from + 3), (y * side + x) * 3);
    }
  }
  return { width: side, height: side, data };
}

function jpeg(image: RgbImage): Buffer {
  const rgba = Buffer.alloc(image.width * image.height * 4, 255);
  for (let i = 0; i < image.width * image.height; i += 1)
    rgba.set(image.data.subarray(i * 3, i * 3 + 3), i * 4);
  return Buffer.from(encodeJpeg({ data: rgba, width: image.width, height: image.height }, 90).data);
}

interface JobView {
  id: string;
  status: string;
  logs: string[];
  result: Record<string, unknown> | null;
  failedReason: string | null;
}
interface VersionDetail {
  id: string;
  status: string;
  statusReason: string | null;
  files: Array<{ role: string; sha256: string; sizeBytes: number }>;
}
interface ApiError {
  error: { status: number; code: string; message: string };
}
interface GateReport {
  passed: boolean;
  budgetPoints: number;
  fp32Accuracy: number;
  int8Accuracy: number;
  dropPoints: number;
  calibrationImages: number;
  layers: Array<{ index: number; precision: string }>;
}

describe('quantize: INT8 plans behind the accuracy budget (HTTP, BullMQ, Redis, PostgreSQL)', () => {
  let controlPlane: RunningControlPlane;
  let operatorToken: string;
  let viewerToken: string;
  let queuePrefix: string;
  let artifactsDir: string;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('external-services', {
      DATABASE_URL: database.url,
      EMOFLEET_ADMIN_TOKEN: ADMIN_TOKEN,
      QUANTIZE_MAX_ACCURACY_DROP_POINTS: '2',
    });
    cleanups.push(test.cleanup);
    queuePrefix = test.config.queuePrefix;
    artifactsDir = test.config.artifacts.directory;
    controlPlane = await startControlPlane(test.config, () => undefined);
    operatorToken = await createToken('operator');
    viewerToken = await createToken('viewer');
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    if (controlPlane) {
      await removeScheduledQueues(controlPlane, queuePrefix);
      await controlPlane.close();
    }
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  const call = apiCaller(() => controlPlane.httpUrl);
  const createToken = (role: string) => createRoleToken(controlPlane.httpUrl, ADMIN_TOKEN, role);

  /** Uploads a version of the face detector and waits until its convert → benchmark chain has finished. */
  async function uploadReadyVersion(files: { evalSet: Buffer; calibrationSet?: Buffer }): Promise<number> {
    const data = uploadForm({
      ...DETECTOR_FILES,
      evalSet: { content: files.evalSet, filename: 'faces-eval.zip' },
      calibrationSet: files.calibrationSet && { content: files.calibrationSet, filename: 'calibration.zip' },
    });
    const created = await call<{ version: number } & Partial<ApiError>>('/models/face-detector/versions', {
      method: 'POST',
      token: operatorToken,
      body: data,
    });
    expect(created.status).toBe(201);
    const version = created.body.version;
    const finished = await eventually(
      () => call<VersionDetail>(`/models/face-detector/versions/${version}`, { token: viewerToken }),
      (response) => response.body.status === 'ready' || response.body.status === 'failed',
      { timeoutMs: 240_000, intervalMs: 500, what: `version ${version} ready` },
    );
    expect(finished.body.statusReason).toBeNull();
    expect(finished.body.status).toBe('ready');
    return version;
  }

  const quantize = (version: number, body: unknown, token = operatorToken) =>
    call<{ jobId: string; budgetPoints: number } & ApiError>(
      `/models/face-detector/versions/${version}/quantize`,
      {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
    );

  const finishedJob = (jobId: string) =>
    eventually(
      () => call<JobView>(`/jobs/${jobId}`, { token: viewerToken }),
      (response) => response.body.status === 'completed' || response.body.status === 'failed',
      { timeoutMs: 300_000, intervalMs: 500, what: `job ${jobId} finished` },
    );

  const photos = FACEAPI.photos;
  // Eval set: all six photos and their mirror images, each labelled with one face box (class 0 = face).
  const evalEntries: Record<string, Buffer> = {};
  photos.forEach((path, i) => {
    for (const mirror of [false, true]) {
      const stem = `photo${i + 1}${mirror ? '-mirrored' : ''}`;
      evalEntries[`${stem}.jpg`] = jpeg(squarePhoto(path, mirror));
      evalEntries[`${stem}.txt`] = Buffer.from('0 0.5 0.4 0.3 0.3\n');
    }
  });
  const grey: RgbImage = { width: 416, height: 416, data: new Uint8Array(416 * 416 * 3).fill(128) };

  it('passes a plan calibrated on representative photos: the version is ready with an int8-plan', async () => {
    const evalSet = await zipArchive(evalEntries);
    const calibrationSet = await zipArchive(
      Object.fromEntries(
        photos.slice(0, 3).map((path, i) => [`calib${i + 1}.jpg`, jpeg(squarePhoto(path, false))]),
      ),
    );
    const version = await uploadReadyVersion({ evalSet, calibrationSet });

    expect((await quantize(version, {}, viewerToken)).status).toBe(403);
    const started = await quantize(version, {});
    expect(started.status).toBe(202);
    expect(started.body.budgetPoints).toBe(2); // QUANTIZE_MAX_ACCURACY_DROP_POINTS
    const whileRunning = await call<VersionDetail>(`/models/face-detector/versions/${version}`, {
      token: viewerToken,
    });
    expect(['quantizing', 'ready']).toContain(whileRunning.body.status);
    const again = await quantize(version, {});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already quantised \(job quantize-/);

    const job = await finishedJob(started.body.jobId);
    expect(job.body.failedReason).toBeNull();
    expect(job.body.status).toBe('completed');
    const report = job.body.result as unknown as GateReport;
    expect(report.passed).toBe(true);
    expect(report.fp32Accuracy).toBe(1); // a face found in every photo
    expect(report.dropPoints).toBeLessThanOrEqual(2);
    expect(report.calibrationImages).toBe(3);
    expect(report.layers.filter((layer) => layer.precision === 'int8').length).toBeGreaterThan(0);

    const detail = await call<VersionDetail>(`/models/face-detector/versions/${version}`, {
      token: viewerToken,
    });
    expect(detail.body.status).toBe('ready');
    const planFile = detail.body.files.find((file) => file.role === 'int8-plan');
    const cacheFile = detail.body.files.find((file) => file.role === 'tensorrt-calibration-cache');
    expect(planFile).toBeDefined();
    expect(cacheFile).toBeDefined();
    const stored = (sha256: string) => readFileSync(join(artifactsDir, 'sha256', sha256.slice(0, 2), sha256));
    const plan = parseInt8Plan(JSON.parse(stored(planFile?.sha256 ?? '').toString('utf8')));
    expect(plan.network.weightsSha256).toBe(createHash('sha256').update(WEIGHTS).digest('hex'));
    expect(stored(cacheFile?.sha256 ?? '').toString('utf8')).toMatch(
      /^TRT-8201-EntropyCalibration2\ninput: [0-9a-f]{8}\n/,
    );
  }, 600_000);

  it('refuses a plan calibrated on a deliberately bad set (uniform grey frames), with the report', async () => {
    const evalSet = await zipArchive(evalEntries);
    const calibrationSet = await zipArchive({ 'grey1.jpg': jpeg(grey), 'grey2.jpg': jpeg(grey) });
    const version = await uploadReadyVersion({ evalSet, calibrationSet });

    const started = await quantize(version, { maxAccuracyDropPoints: 1 });
    expect(started.status).toBe(202);
    expect(started.body.budgetPoints).toBe(1);
    const job = await finishedJob(started.body.jobId);
    expect(job.body.status).toBe('failed');
    expect(job.body.failedReason).toMatch(
      /the INT8 plan breaks the accuracy budget: eval-set accuracy FP32 100\.0 %, INT8 [\d.]+ %: drop [\d.]+ points, budget 1/,
    );
    const reportLine = job.body.logs.find((line) => line.startsWith('report: ')) ?? '';
    const report = JSON.parse(reportLine.slice('report: '.length)) as GateReport;
    expect(report.passed).toBe(false);
    expect(report.fp32Accuracy).toBe(1);
    expect(report.dropPoints).toBeGreaterThan(1);

    const detail = await call<VersionDetail>(`/models/face-detector/versions/${version}`, {
      token: viewerToken,
    });
    expect(detail.body.status).toBe('failed');
    expect(detail.body.statusReason).toMatch(/^quantize: the INT8 plan breaks the accuracy budget/);
    expect(detail.body.files.map((file) => file.role)).not.toContain('int8-plan');
  }, 600_000);

  it('names what is wrong with a request', async () => {
    const evalSet = await zipArchive(evalEntries);
    const version = await uploadReadyVersion({ evalSet });
    const missing = await quantize(version, {});
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toMatch(/has no calibration-set file/);
    const badBudget = await quantize(version, { maxAccuracyDropPoints: -1 });
    expect(badBudget.status).toBe(400);
    expect(JSON.stringify(badBudget.body)).toMatch(/maxAccuracyDropPoints/);
    const unknownField = await quantize(version, { budget: 3 });
    expect(unknownField.status).toBe(400);
    expect((await quantize(99, {})).status).toBe(404);

    // A calibration set is checked at upload like an eval set (here: an entry leaving the archive).
    const data = uploadForm({
      ...DETECTOR_FILES,
      calibrationSet: { content: await tarArchive({ '../escape.jpg': jpeg(grey) }), filename: 'bad.tar' },
    });
    const refused = await call<ApiError>('/models/face-detector/versions', {
      method: 'POST',
      token: operatorToken,
      body: data,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toMatch(/bad\.tar: entry "\.\.\/escape\.jpg" leaves the archive/);
  }, 600_000);
});
