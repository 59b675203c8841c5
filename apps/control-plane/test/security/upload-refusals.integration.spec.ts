import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import * as tar from 'tar-stream';
import * as yazl from 'yazl';
import { type RunningControlPlane, startControlPlane } from '../../src/control-plane';
import { apiCaller, tarArchive, uploadForm, zipArchive } from '../support/model-uploads';
import { SMALL_CFG } from '../support/small-model';
import {
  createTestDatabase,
  testAdminToken,
  testConfig,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from '../support/test-environment';

/**
 * Model uploads that must be refused with a clear 4xx naming the file and the problem, before anything is kept:
 * oversized files, malformed cfg, truncated weights, and eval-set archives that are zip bombs, escape the
 * archive (`..`, absolute paths, backslashes, links) or are not archives at all. Real control plane with
 * PostgreSQL, Redis and Mosquitto; small limits so the oversized files stay small.
 */

const NAMES = readFileSync(join(__dirname, '../../../../libs/darknet/models/expressions.names'), 'utf8');
const NETWORK = parseCfg(SMALL_CFG, 'small.cfg');
const WEIGHTS = Buffer.from(serialiseWeights(NETWORK, randomWeights(NETWORK, 7)));
const LIMITS = {
  cfg: 8 * 1024,
  names: 1024,
  evalSet: 256 * 1024,
  entries: 50,
  uncompressed: 64 * 1024,
  ratio: 100,
};
const FUZZ_SEED = 3010;
const FUZZ_RUNS = 15;

interface ApiError {
  error: { status: number; code: string; message: string };
}

/** A tar archive with one special entry (symlink, hard link, fifo) among regular files. */
async function tarWithEntry(
  header: Parameters<tar.Pack['entry']>[0],
  files: Record<string, string> = {},
): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name }, content);
  pack.entry(header);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A zip archive whose entry `name` is a Unix symbolic link to `target`. */
async function zipWithSymlink(name: string, target: string): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(target), name, { mode: 0o120777, compress: false });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * A zip archive with an entry named `name`, which zip writers refuse to write: written as `placeholder` (same
 * length) and renamed in the local header and the central directory.
 */
async function zipWithName(placeholder: string, name: string): Promise<Buffer> {
  const archive = await zipArchive({ [placeholder]: Buffer.from('x') });
  const from = Buffer.from(placeholder);
  const to = Buffer.from(name);
  for (let at = archive.indexOf(from); at !== -1; at = archive.indexOf(from, at + 1)) to.copy(archive, at);
  return archive;
}

describe('refused model uploads and eval-set archives (PostgreSQL, Redis, Mosquitto)', () => {
  let controlPlane: RunningControlPlane;
  let validEvalSet: { tar: Buffer; zip: Buffer };
  const cleanups: Array<() => Promise<void> | void> = [];
  const call = apiCaller(() => controlPlane.httpUrl);

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('external-services', {
      DATABASE_URL: database.url,
      UPLOAD_MAX_CFG_BYTES: String(LIMITS.cfg),
      UPLOAD_MAX_NAMES_BYTES: String(LIMITS.names),
      UPLOAD_MAX_EVAL_SET_BYTES: String(LIMITS.evalSet),
      EVAL_SET_MAX_ENTRIES: String(LIMITS.entries),
      EVAL_SET_MAX_UNCOMPRESSED_BYTES: String(LIMITS.uncompressed),
      EVAL_SET_MAX_COMPRESSION_RATIO: String(LIMITS.ratio),
    });
    cleanups.push(test.cleanup);
    controlPlane = await startControlPlane(test.config, () => undefined);
    // Archives that are not valid eval sets whatever a truncation or a flipped byte does to them: the first
    // label names class 9 (of 4), and the image after it has no label.
    const entries = { 'a.txt': '9 0.5 0.5 0.2 0.2\n', 'a.jpg': 'not a jpeg', 'b.jpg': 'no label' };
    validEvalSet = {
      tar: await tarArchive(entries),
      zip: await zipArchive(
        Object.fromEntries(Object.entries(entries).map(([name, text]) => [name, Buffer.from(text)])),
      ),
    };
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  const upload = (files: { cfg?: Buffer; weights?: Buffer; names?: Buffer; evalSet?: Buffer }) =>
    call<ApiError>('/models/refused/versions', {
      method: 'POST',
      token: testAdminToken,
      body: uploadForm({
        cfg: { content: files.cfg ?? Buffer.from(SMALL_CFG), filename: 'small.cfg' },
        weights: { content: files.weights ?? WEIGHTS, filename: 'small.weights' },
        names: { content: files.names ?? Buffer.from(NAMES), filename: 'expressions.names' },
        ...(files.evalSet ? { evalSet: { content: files.evalSet, filename: 'faces.eval' } } : {}),
      }),
    });

  const expectNothingKept = async () => {
    const versions = await call<ApiError>('/models/refused/versions', { token: testAdminToken });
    expect(versions.status).toBe(404);
  };

  it.each<[string, () => Promise<Buffer> | Buffer, RegExp]>([
    ['".." in a tar entry', () => tarArchive({ 'faces/../../etc/cron.d/x.jpg': 'x' }), /leaves the archive/],
    ['an absolute tar entry', () => tarArchive({ '/etc/cron.d/x.jpg': 'x' }), /is an absolute path/],
    ['a drive-letter tar entry', () => tarArchive({ 'C:/Windows/x.jpg': 'x' }), /is an absolute path/],
    ['a backslash in a tar entry', () => tarArchive({ '..\\..\\x.jpg': 'x' }), /contains a backslash/],
    [
      'a tar symlink',
      () => tarWithEntry({ name: 'a.jpg', type: 'symlink', linkname: '/etc/passwd' }),
      /entry "a\.jpg" is a symlink: only regular files and directories are allowed/,
    ],
    [
      'a tar hard link',
      () => tarWithEntry({ name: 'b.jpg', type: 'link', linkname: 'a.jpg' }, { 'a.jpg': 'x' }),
      /entry "b\.jpg" is a link: only regular files/,
    ],
    ['a tar fifo', () => tarWithEntry({ name: 'pipe.jpg', type: 'fifo' }), /entry "pipe\.jpg" is a fifo/],
    [
      '".." in a zip entry',
      () => zipWithName('zz/x.jpg', '../x.jpg'),
      /leaves the archive|is a damaged zip archive \(invalid relative path: \.\.\/x\.jpg\)/,
    ],
    [
      'an absolute zip entry',
      () => zipWithName('zx.jpg', '/x.jpg'),
      /is an absolute path|is a damaged zip archive \(absolute path: \/x\.jpg\)/,
    ],
    [
      'a zip symlink',
      () => zipWithSymlink('a.jpg', '/etc/passwd'),
      /entry "a\.jpg" is a symlink: only regular files and directories are allowed/,
    ],
    [
      'a zip bomb (one highly compressed entry)',
      () => zipArchive({ 'bomb.jpg': Buffer.alloc(LIMITS.uncompressed - 1024) }),
      new RegExp(
        `entry "bomb\\.jpg" expands \\d+x \\(at most ${LIMITS.ratio}x\\): refusing a possible zip bomb`,
      ),
    ],
    [
      'more entries than allowed',
      () =>
        tarArchive(
          Object.fromEntries(Array.from({ length: LIMITS.entries + 1 }, (_, i) => [`f${i}.jpg`, 'x'])),
        ),
      new RegExp(`has more than ${LIMITS.entries} entries`),
    ],
    [
      'more uncompressed bytes than allowed',
      () => zipArchive({ 'a.jpg': randomBytes(40 * 1024), 'b.jpg': randomBytes(40 * 1024) }),
      new RegExp(`unpacks to more than ${LIMITS.uncompressed} bytes`),
    ],
    ['an empty file', () => Buffer.alloc(0), /is empty/],
    [
      'a truncated zip',
      async () =>
        (await zipArchive({ 'a.jpg': Buffer.from('x'), 'a.txt': Buffer.from('0 .5 .5 .1 .1') })).subarray(
          0,
          60,
        ),
      /is not a readable zip archive/,
    ],
    [
      'text that is no archive',
      () => Buffer.from('hello, this is not an archive at all\n'.repeat(40)),
      /faces\.eval: /,
    ],
  ])('refuses an eval set with %s: 422 naming it', async (_what, archive, message) => {
    const response = await upload({ evalSet: await archive() });
    expect(response.status).toBe(422);
    expect(response.body.error.message).toMatch(/^faces\.eval: /);
    expect(response.body.error.message).toMatch(message);
    await expectNothingKept();
  });

  it.each<[string, { cfg?: Buffer; names?: Buffer; evalSet?: Buffer }, RegExp]>([
    [
      'cfg',
      { cfg: Buffer.from(`${SMALL_CFG}\n${'#'.repeat(LIMITS.cfg)}`) },
      new RegExp(`cfg \\(small\\.cfg\\) is larger than the limit of ${LIMITS.cfg} bytes`),
    ],
    [
      'names',
      { names: Buffer.from(`${NAMES}${'x'.repeat(LIMITS.names)}`) },
      new RegExp(`names \\(expressions\\.names\\) is larger than the limit of ${LIMITS.names} bytes`),
    ],
    [
      'eval set',
      { evalSet: randomBytes(LIMITS.evalSet + 1) },
      new RegExp(`evalSet \\(faces\\.eval\\) is larger than the limit of ${LIMITS.evalSet} bytes`),
    ],
  ])('refuses an oversized %s with 413 naming the field and the limit', async (_what, files, message) => {
    const response = await upload(files);
    expect(response.status).toBe(413);
    expect(response.body.error.message).toMatch(message);
    await expectNothingKept();
  });

  it('refuses every truncated, bit-flipped or random eval-set archive with a 4xx naming it (fast-check)', async () => {
    const damaged = fc.oneof(
      fc
        .tuple(fc.constantFrom('tar' as const, 'zip' as const), fc.nat())
        .map(([format, cut]) =>
          validEvalSet[format].subarray(0, 1 + (cut % (validEvalSet[format].length - 1))),
        ),
      fc
        .tuple(
          fc.constantFrom('tar' as const, 'zip' as const),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
        )
        .map(([format, flips]) => {
          const copy = Buffer.from(validEvalSet[format]);
          for (const [at, mask] of flips) copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ mask;
          return copy;
        }),
      fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((bytes) => Buffer.from(bytes)),
    );
    await fc.assert(
      fc.asyncProperty(damaged, async (archive) => {
        const response = await upload({ evalSet: archive });
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(response.body.error.message).toMatch(/^faces\.eval[:]/);
      }),
      { numRuns: FUZZ_RUNS * 2, seed: FUZZ_SEED },
    );
    await expectNothingKept();
  }, 120_000);

  it('refuses malformed cfg and truncated or oversized weights with a 422 naming the file (fast-check)', async () => {
    const lines = SMALL_CFG.split('\n');
    const badCfg = fc.oneof(
      // A line no darknet cfg may hold: an unknown section, a key without a value, a non-number.
      fc
        .tuple(
          fc.nat(),
          fc.oneof(
            fc.stringMatching(/^[a-z]{3,10}$/).map((name) => `[fuzz_${name}]`),
            fc.stringMatching(/^[a-z]{3,10}$/).map((key) => `${key}`),
            fc.stringMatching(/^[a-z%!]{1,10}$/).map((value) => `filters=x${value}`),
          ),
        )
        .map(([at, line]) => {
          const index = 1 + (at % (lines.length - 1));
          return [...lines.slice(0, index), line, ...lines.slice(index)].join('\n');
        }),
      // Cut anywhere after [net]: the weights no longer fit what is left.
      fc.integer({ min: 20, max: SMALL_CFG.length - 40 }).map((cut) => SMALL_CFG.slice(0, cut)),
    );
    await fc.assert(
      fc.asyncProperty(badCfg, async (cfg) => {
        const response = await upload({ cfg: Buffer.from(cfg) });
        expect(response.status).toBe(422);
        expect(response.body.error.message).toMatch(/^(small\.cfg|small\.weights|expressions\.names)[:]/);
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED + 1 },
    );
    const badWeights = fc.oneof(
      fc.integer({ min: 0, max: WEIGHTS.length - 1 }).map((length) => WEIGHTS.subarray(0, length)),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => Buffer.concat([WEIGHTS, extra])),
    );
    await fc.assert(
      fc.asyncProperty(badWeights, async (weights) => {
        const response = await upload({ weights });
        expect(response.status).toBe(422);
        expect(response.body.error.message).toMatch(
          weights.length < WEIGHTS.length
            ? /^(small\.weights|weights): (is empty|truncated|.*too short)/
            : /^small\.weights: .*surplus bytes after the last layer/,
        );
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED + 2 },
    );
    await expectNothingKept();
  }, 120_000);
});
