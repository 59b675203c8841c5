/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCfg, randomWeights, SeededRandom, serialiseWeights } from '@emofleet/darknet';
import { verifyManifestSignature } from '@emofleet/protocol';
import { Client } from 'pg';
import { encode as encodeJpeg } from 'jpeg-js';
import { hashSecret } from '../src/auth/token-secret';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { eventually } from './support/eventually';
import { apiCaller, createRoleToken, tarArchive, uploadForm, zipArchive } from './support/model-uploads';
import {
  createTestDatabase,
  testConfig,
  uniqueSuffix,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from './support/test-environment';

const MODELS = join(__dirname, '../../../libs/darknet/models');
const CFG = readFileSync(join(MODELS, 'yolov2-tiny-expression.cfg'), 'utf8');
const NAMES = readFileSync(join(MODELS, 'expressions.names'), 'utf8');
const NETWORK = parseCfg(CFG, 'yolov2-tiny-expression.cfg');
const WEIGHTS = Buffer.from(serialiseWeights(NETWORK, randomWeights(NETWORK, 2026)));
const ADMIN_TOKEN = `emf_test_admin_${'x'.repeat(40)}`;
const MAX_WEIGHTS_BYTES = WEIGHTS.length + 1024;

interface ApiError {
  error: { status: number; code: string; message: string };
}
interface VersionDetail {
  id: string;
  version: number;
  status: string;
  statusReason: string | null;
  uploadedBy: string;
  parentVersion: number | null;
  transforms: unknown[];
  analysis: { layers: Array<{ index: number; params: number; flops: number }>; totals: { params: number } };
  files: Array<{ role: string; sha256: string; sizeBytes: number }>;
  manifests: Array<{
    modelId: string;
    version: string;
    format: 'darknet-bundle';
    sha256: string;
    sizeBytes: number;
    signature: string;
  }>;
  baseline: Record<string, unknown> | null;
  jobs: Array<{ id: string; status: string }>;
}
interface JobView {
  id: string;
  status: string;
  progress: number;
  logs: string[];
  result: Record<string, unknown> | null;
  failedReason: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}
interface Baseline {
  fps: number;
  latencyMs: { p50: number; p95: number };
  accuracy: number | null;
  accuracyNote: string;
  evalSet: { evaluated: number; correct: number; skipped: Array<{ image: string; reason: string }> } | null;
}

/** Wall time from a job's record (enqueued) to its end. */
function elapsed(job: JobView): number {
  return Date.parse(job.finishedAt ?? job.updatedAt) - Date.parse(job.createdAt);
}

describe('models, artifacts and the pipeline (PostgreSQL, Redis, Mosquitto)', () => {
  let controlPlane: RunningControlPlane;
  let databaseUrl: string;
  let artifactsDir: string;
  let operatorToken: string;
  let viewerToken: string;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    databaseUrl = database.url;
    const test = testConfig('external-services', {
      DATABASE_URL: database.url,
      EMOFLEET_ADMIN_TOKEN: ADMIN_TOKEN,
      UPLOAD_MAX_WEIGHTS_BYTES: String(MAX_WEIGHTS_BYTES),
      EVAL_SET_MAX_COMPRESSION_RATIO: '50',
    });
    cleanups.push(test.cleanup);
    artifactsDir = join(test.dataDir, 'artifacts');
    controlPlane = await startControlPlane(test.config, () => undefined);
    operatorToken = await createToken('operator');
    viewerToken = await createToken('viewer');
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  const call = apiCaller(() => controlPlane.httpUrl);
  const createToken = (role: string) => createRoleToken(controlPlane.httpUrl, ADMIN_TOKEN, role);

  const FILE_NAMES: Record<string, string> = {
    cfg: 'yolov2-tiny-expression.cfg',
    weights: 'tiny.weights',
    names: 'expressions.names',
    evalSet: 'eval-set',
  };
  const form = (files: Record<string, Buffer | undefined>, fields: Record<string, string[]> = {}) =>
    uploadForm(
      Object.fromEntries(
        Object.entries(files).map(([field, content]) => [
          field,
          content && { content, filename: FILE_NAMES[field] ?? field },
        ]),
      ),
      fields,
    );
  const upload = (model: string, data: FormData, token = operatorToken) =>
    call<VersionDetail & { jobId: string } & ApiError>(`/models/${model}/versions`, {
      method: 'POST',
      body: data,
      token,
    });
  const blobCount = () => {
    try {
      return readdirSync(join(artifactsDir, 'sha256'), { recursive: true }).filter(
        (entry) => String(entry).length > 3,
      ).length;
    } catch {
      return 0;
    }
  };
  const validFiles = () => ({ cfg: Buffer.from(CFG), weights: WEIGHTS, names: Buffer.from(NAMES) });

  it('accepts the paper tiny network, signs its bundle, converts, verifies, benchmarks and ends ready', async () => {
    const evalSet = await tarArchive({
      'img/a.jpg': noiseJpeg(96, 72),
      'img/a.txt': '0 0.5 0.5 0.2 0.2\n3 0.1 0.1 0.05 0.05\n',
      'img/b.png': 'png bytes',
      'img/b.txt': '2 0.5 0.5 0.3 0.3\n',
    });
    const created = await upload(
      'tiny-expr',
      form({ ...validFiles(), evalSet }, { transform: ['fold-batch-norm'] }),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      version: 1,
      status: 'uploaded',
      uploadedBy: expect.stringMatching(/^token:operator-/),
    });
    expect(created.body.jobId).toBe(`convert-${created.body.id}`);

    const progressSeen = new Set<number>();
    const convert = await eventually(
      async () => {
        const response = await call<JobView>(`/jobs/${created.body.jobId}`, { token: viewerToken });
        progressSeen.add(response.body.progress);
        return response;
      },
      (response) => response.body.status === 'completed' || response.body.status === 'failed',
      { timeoutMs: 240_000, intervalMs: 200, what: 'convert job finished' },
    );
    expect(convert.body.failedReason).toBeNull();
    expect(convert.body.status).toBe('completed');
    expect(convert.body.progress).toBe(100);
    expect([...progressSeen].some((percent) => percent > 0 && percent < 100)).toBe(true);
    const logs = convert.body.logs.join('\n');
    expect(logs).toMatch(/folded batch norm/);
    expect(logs).toMatch(/OK: onnx export vs reference/);
    expect(logs).toMatch(/OK: caffe export vs reference/);
    const converted = convert.body.result as {
      artifacts: Record<string, string>;
      verified: Array<{ format: string; maxAbs: number; maxRel: number; tolerance: number }>;
    };
    expect(converted.verified.map((report) => report.format)).toEqual(['onnx', 'caffe']);
    for (const report of converted.verified) {
      expect(report.tolerance).toBe(1e-4);
      expect(report.maxRel).toBeLessThanOrEqual(1e-4);
      expect(report.maxAbs).toBeGreaterThanOrEqual(0);
    }

    const benchmarkId = `benchmark-${created.body.id}`;
    const benchmark = await eventually(
      () => call<JobView>(`/jobs/${benchmarkId}`, { token: viewerToken }),
      (response) => response.body?.status === 'completed' || response.body?.status === 'failed',
      { timeoutMs: 120_000, intervalMs: 200, what: 'benchmark job finished' },
    );
    expect(benchmark.body.failedReason).toBeNull();
    const baseline = benchmark.body.result as unknown as Baseline;
    expect(baseline.fps).toBeGreaterThan(0);
    expect(baseline.latencyMs.p50).toBeGreaterThan(0);
    expect(baseline.latencyMs.p95).toBeGreaterThanOrEqual(baseline.latencyMs.p50);
    // One JPEG evaluated (random weights: right or wrong), the PNG skipped and listed.
    expect(baseline.evalSet?.evaluated).toBe(1);
    expect(baseline.accuracy).toBe(baseline.evalSet?.correct);
    expect(baseline.evalSet?.skipped).toEqual([
      { image: 'img/b.png', reason: '.png images are not decoded by the benchmark' },
    ]);
    expect(baseline.accuracyNote).toMatch(
      /of 1 eval-set images detected with the labelled expression; 1 image\(s\) skipped/,
    );
    // Timings and differences for the record (jest prints them with the test run).
    process.stdout.write(
      `convert ${elapsed(convert.body)} ms, benchmark ${elapsed(benchmark.body)} ms; ` +
        `${converted.verified.map((report) => `${report.format} max abs ${report.maxAbs.toExponential(2)} max rel ${report.maxRel.toExponential(2)}`).join('; ')}; ` +
        `${baseline.fps} FPS, p50 ${baseline.latencyMs.p50} ms, p95 ${baseline.latencyMs.p95} ms\n`,
    );

    const detail = await call<VersionDetail>('/models/tiny-expr/versions/1', { token: viewerToken });
    expect(detail.status).toBe(200);
    expect(detail.body.status).toBe('ready');
    expect(detail.body.statusReason).toBeNull();
    expect(detail.body.baseline).toEqual(baseline);
    expect(detail.body.jobs.map((job) => [job.id, job.status])).toEqual([
      [created.body.jobId, 'completed'],
      [benchmarkId, 'completed'],
    ]);
    expect(detail.body.analysis.layers).toHaveLength(NETWORK.layers.length);
    expect(detail.body.analysis.totals.params).toBeGreaterThan(0);
    expect(detail.body.files.map((file) => file.role).sort()).toEqual(
      [
        'caffe-model',
        'caffe-prototxt',
        'cfg',
        'converted-cfg',
        'converted-weights',
        'darknet-bundle',
        'eval-set',
        'names',
        'onnx',
        'weights',
      ].sort(),
    );
    for (const role of ['onnx', 'caffe-prototxt', 'caffe-model']) {
      const file = detail.body.files.find((candidate) => candidate.role === role);
      expect(file?.sha256).toBe(converted.artifacts[role]);
      expect(file?.sizeBytes).toBeGreaterThan(0);
    }
    const weights = detail.body.files.find((file) => file.role === 'weights');
    expect(weights?.sizeBytes).toBe(WEIGHTS.length);

    const [manifest] = detail.body.manifests;
    if (!manifest) throw new Error('no manifest');
    expect(manifest).toMatchObject({ modelId: 'tiny-expr', version: '1', format: 'darknet-bundle' });
    const key = await call<{ publicKeyPem: string }>('/signing-key');
    expect(verifyManifestSignature(manifest, manifest.signature, key.body.publicKeyPem)).toBe(true);
    expect(
      verifyManifestSignature(
        { ...manifest, sizeBytes: manifest.sizeBytes + 1 },
        manifest.signature,
        key.body.publicKeyPem,
      ),
    ).toBe(false);

    const list = await call<{ items: Array<{ name: string; versions: number }> }>('/models', {
      token: viewerToken,
    });
    expect(list.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'tiny-expr', versions: 1 })]),
    );
  }, 420_000);

  it('keeps lineage and stores equal content once', async () => {
    const before = blobCount();
    const second = await upload('tiny-expr', form(validFiles(), { parentVersion: ['1'] }));
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ version: 2, parentVersion: 1 });
    expect(blobCount()).toBe(before);
    const versions = await call<{ items: Array<{ version: number; parentVersion: number | null }> }>(
      '/models/tiny-expr/versions',
      { token: viewerToken },
    );
    expect(versions.body.items.map((item) => [item.version, item.parentVersion])).toEqual([
      [2, 1],
      [1, null],
    ]);
  }, 20_000);

  it('serves artifacts with Range and If-Range, to devices only for their desired model', async () => {
    const detail = await call<VersionDetail>('/models/tiny-expr/versions/1', { token: viewerToken });
    const bundle = detail.body.manifests[0];
    if (!bundle) throw new Error('no manifest');
    const allowed = `dev-a-${uniqueSuffix()}`;
    const other = `dev-b-${uniqueSuffix()}`;
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      for (const id of [allowed, other]) {
        await db.query('insert into devices (id, name) values ($1, $1)', [id]);
        await db.query('insert into device_credentials (device_id, secret_hash) values ($1, $2)', [
          id,
          hashSecret(`secret-${id}`),
        ]);
      }
      await db.query(`update devices set desired_model = $2 where id = $1`, [
        allowed,
        { modelId: 'tiny-expr', version: '1' },
      ]);
    } finally {
      await db.end();
    }
    const basic = (id: string, secret = `secret-${id}`) => ({
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    });
    const path = `/artifacts/${bundle.sha256}`;

    const whole = await fetch(`${controlPlane.httpUrl}${path}`, { headers: basic(allowed) });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('etag')).toBe(`"${bundle.sha256}"`);
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(bytes.length).toBe(bundle.sizeBytes);

    const part = await fetch(`${controlPlane.httpUrl}${path}`, {
      headers: { ...basic(allowed), range: 'bytes=100-199' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${bundle.sizeBytes}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(100, 200));

    const staleIfRange = await fetch(`${controlPlane.httpUrl}${path}`, {
      headers: { ...basic(allowed), range: 'bytes=0-9', 'if-range': '"something-else"' },
    });
    expect(staleIfRange.status).toBe(200);
    await staleIfRange.arrayBuffer();

    const beyond = await fetch(`${controlPlane.httpUrl}${path}`, {
      headers: { ...basic(allowed), range: `bytes=${bundle.sizeBytes}-` },
    });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bundle.sizeBytes}`);
    await beyond.arrayBuffer();

    expect((await call(path, { headers: basic(other) })).status).toBe(403);
    expect((await call(path, { headers: basic(allowed, 'wrong') })).status).toBe(401);
    expect((await call(path)).status).toBe(401);
    const asViewer = await fetch(`${controlPlane.httpUrl}${path}`, {
      headers: { authorization: `Bearer ${viewerToken}` },
    });
    expect(asViewer.status).toBe(200);
    // Buffer.equals: jest's deep equality walks 60 MB element by element.
    expect(Buffer.from(await asViewer.arrayBuffer()).equals(bytes)).toBe(true);
  }, 60_000);

  it('shows the pipeline queues in Bull Board at /queues to admins only', async () => {
    const page = await fetch(`${controlPlane.httpUrl}/queues`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/html/);
    await page.text();
    const queues = await call<{ queues: Array<{ name: string }> }>('/queues/api/queues', {
      token: ADMIN_TOKEN,
    });
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((queue) => queue.name).sort()).toEqual([
      'engine-build',
      'model-benchmark',
      'model-convert',
    ]);
    expect((await call('/queues', { token: operatorToken })).status).toBe(403);
    expect((await call('/queues/api/queues')).status).toBe(401);
  });

  it('refuses bad models with a clear 4xx and keeps nothing', async () => {
    // Version 2's own pipeline stores its exports in the background; count blobs once it is over.
    await eventually(
      () => call<VersionDetail>('/models/tiny-expr/versions/2', { token: viewerToken }),
      (response) => response.body.status === 'ready' || response.body.status === 'failed',
      { timeoutMs: 240_000, intervalMs: 200, what: 'version 2 pipeline finished' },
    );
    const before = blobCount();
    const expectRefused = async (data: FormData, status: number, message: RegExp, token?: string) => {
      const response = await upload('refused', data, token);
      expect(response.status).toBe(status);
      expect(response.body.error.message).toMatch(message);
    };
    await expectRefused(
      form({ ...validFiles(), cfg: Buffer.from(CFG.replace('[maxpool]', '[maxpoool]')) }),
      422,
      /^yolov2-tiny-expression\.cfg:\d+: .*maxpoool/,
    );
    await expectRefused(
      form({ ...validFiles(), weights: WEIGHTS.subarray(0, WEIGHTS.length - 10) }),
      422,
      new RegExp(
        `tiny\\.weights: truncated: expected ${WEIGHTS.length} bytes .* got ${WEIGHTS.length - 10}; the data runs out in layer \\d+`,
      ),
    );
    await expectRefused(
      form({ ...validFiles(), weights: Buffer.concat([WEIGHTS, Buffer.alloc(8)]) }),
      422,
      /8 surplus bytes after the last layer/,
    );
    await expectRefused(
      form({ ...validFiles(), weights: Buffer.concat([WEIGHTS, Buffer.alloc(2048)]) }),
      413,
      new RegExp(`weights \\(tiny\\.weights\\) is larger than the limit of ${MAX_WEIGHTS_BYTES} bytes`),
    );
    await expectRefused(
      form({ ...validFiles(), names: Buffer.from('Happiness\nSadness\n') }),
      422,
      /expressions\.names: has 2 class names, but yolov2-tiny-expression\.cfg declares classes=4/,
    );
    await expectRefused(form({ cfg: Buffer.from(CFG), names: Buffer.from(NAMES) }), 422, /weights: missing/);
    await expectRefused(
      form({
        ...validFiles(),
        evalSet: await tarArchive({ '../escape.jpg': 'x', '../escape.txt': '0 0.5 0.5 0.1 0.1' }),
      }),
      422,
      /entry "\.\.\/escape\.jpg" leaves the archive/,
    );
    await expectRefused(
      form({
        ...validFiles(),
        evalSet: await zipArchive({ 'a.jpg': Buffer.alloc(10), 'a.txt': Buffer.from('7 0.5 0.5 0.1 0.1\n') }),
      }),
      422,
      /eval-set:a\.txt:1: class "7" is not an integer in 0\.\.3/,
    );
    await expectRefused(
      form({ ...validFiles(), evalSet: await zipArchive({ 'bomb.jpg': Buffer.alloc(4 * 1024 * 1024) }) }),
      422,
      /entry "bomb\.jpg" expands \d+x \(at most 50x\): refusing a possible zip bomb/,
    );
    await expectRefused(
      form(validFiles(), { transform: ['replace-3x3-with-1x1:2'] }),
      422,
      /layer 2 .*maxpool/,
    );
    await expectRefused(form(validFiles()), 403, /operator/, viewerToken);
    expect(blobCount()).toBe(before);
    expect((await call('/models/refused/versions', { token: viewerToken })).status).toBe(404);
  }, 300_000);
});

/** A real JPEG of seeded noise. */
function noiseJpeg(width: number, height: number): Buffer {
  const random = new SeededRandom(5);
  const data = Buffer.from(random.fill(width * height * 4, 0, 255).map(Math.floor));
  return encodeJpeg({ width, height, data }, 90).data;
}
