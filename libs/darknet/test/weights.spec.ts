import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  parseCfg,
  randomWeights,
  readWeights,
  saveWeights,
  serialiseWeights,
  WeightsError,
  type NetworkWeights,
} from '../src';
import { randomCfgArbitrary } from './support/random-cfg';

const TINY = parseCfg(
  [
    '[net]\nwidth=4\nheight=4\nchannels=2',
    '[convolutional]\nbatch_normalize=1\nfilters=3\nsize=3\npad=1\nactivation=leaky',
    '[connected]\noutput=2\nbatch_normalize=1\nactivation=linear',
    '[convolutional]\nfilters=1\nsize=1\nactivation=linear',
  ].join('\n\n'),
  'tiny.cfg',
);
// conv0: 3 biases + 3*3 BN + 3*2*3*3 weights = 66; fc1: 2 + 2*48 + 3*2 = 104; conv2: 1 + 2 = 3.
const TINY_FLOATS = 66 + 104 + 3;

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(WeightsError);
    return (error as Error).message;
  }
  throw new Error('expected a WeightsError');
}

describe('.weights read and write', () => {
  it('write -> read is the identity for random networks and both header versions', () => {
    fc.assert(
      fc.property(
        randomCfgArbitrary({ openCvCompatible: false }),
        fc.nat(),
        fc.constantFrom([0, 1, 0], [0, 2, 0], [1, 0, 3]),
        fc.bigInt({ min: 0n, max: 2n ** 31n - 1n }),
        (text, seed, [major, minor, revision], seen) => {
          const network = parseCfg(text, 'random.cfg');
          const header = { major: major ?? 0, minor: minor ?? 0, revision: revision ?? 0, seen };
          const weights = randomWeights(network, seed, header);
          const bytes = serialiseWeights(network, weights);
          expect(readWeights(network, bytes, 'random.weights')).toEqual(weights);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stores seen as 64-bit from version 0.2 and as 32-bit before', () => {
    const weights = randomWeights(TINY, 1);
    const modern = serialiseWeights(TINY, {
      ...weights,
      header: { major: 0, minor: 2, revision: 0, seen: 2n ** 40n },
    });
    const legacy = serialiseWeights(TINY, {
      ...weights,
      header: { major: 0, minor: 1, revision: 0, seen: 7n },
    });
    expect(modern.byteLength).toBe(20 + TINY_FLOATS * 4);
    expect(legacy.byteLength).toBe(16 + TINY_FLOATS * 4);
    expect(readWeights(TINY, modern).header.seen).toBe(2n ** 40n);
    expect(readWeights(TINY, legacy).header.seen).toBe(7n);
  });

  it("uses darknet's array order: conv biases, BN, weights; connected biases, weights, BN", () => {
    const weights = randomWeights(TINY, 2);
    const bytes = serialiseWeights(TINY, weights);
    const floats = new Float32Array(bytes.slice(20).buffer);
    const conv = weights.layers[0];
    const connected = weights.layers[1];
    if (!conv?.batchNorm || !connected?.batchNorm) throw new Error('test network must be batch-normalised');
    const expected = [
      ...conv.biases,
      ...conv.batchNorm.scales,
      ...conv.batchNorm.rollingMean,
      ...conv.batchNorm.rollingVariance,
      ...conv.weights,
      ...connected.biases,
      ...connected.weights,
      ...connected.batchNorm.scales,
      ...connected.batchNorm.rollingMean,
      ...connected.batchNorm.rollingVariance,
      ...(weights.layers[2]?.biases ?? []),
      ...(weights.layers[2]?.weights ?? []),
    ];
    expect(Array.from(floats)).toEqual(expected);
  });

  it('names expected and actual bytes and the layer where a truncated file runs out', () => {
    const bytes = serialiseWeights(TINY, randomWeights(TINY, 3));
    const cut = bytes.slice(0, 20 + 4 * (66 + 2 + 10));
    expect(errorOf(() => readWeights(TINY, cut, 'cut.weights'))).toBe(
      `cut.weights: truncated: expected ${20 + TINY_FLOATS * 4} bytes for tiny.cfg (20-byte header + 3 weighted layers), got ${cut.byteLength}; ` +
        'the data runs out in layer 1 (connected, cfg line 13) while reading its weights (bytes 292..676)',
    );
  });

  it('names the surplus of an oversized file', () => {
    const bytes = serialiseWeights(TINY, randomWeights(TINY, 4));
    const long = new Uint8Array(bytes.byteLength + 12);
    long.set(bytes);
    expect(errorOf(() => readWeights(TINY, long, 'long.weights'))).toBe(
      `long.weights: expected ${bytes.byteLength} bytes for tiny.cfg (20-byte header + 3 weighted layers), got ${long.byteLength}: 12 surplus bytes after the last layer`,
    );
  });

  it('rejects a file too short for its header and transposed-format headers', () => {
    expect(errorOf(() => readWeights(TINY, new Uint8Array(10), 'x.weights'))).toContain(
      'x.weights: 10 bytes is too short for a weights header',
    );
    const header = new Uint8Array(16);
    new DataView(header.buffer).setInt32(4, 0, true);
    new DataView(header.buffer).setInt32(0, 0, true);
    new DataView(header.buffer).setInt32(4, 2, true);
    expect(errorOf(() => readWeights(TINY, header, 'y.weights'))).toContain(
      'too short for a version 0.2 header (20 bytes)',
    );
    const transposed = new Uint8Array(20);
    new DataView(transposed.buffer).setInt32(0, 1001, true);
    expect(errorOf(() => readWeights(TINY, transposed, 'z.weights'))).toContain(
      'header version 1001.0 is not supported',
    );
  });

  it('writes atomically and leaves nothing behind when serialisation fails', () => {
    const directory = mkdtempSync(join(tmpdir(), 'darknet-weights-'));
    try {
      const path = join(directory, 'tiny.weights');
      const weights = randomWeights(TINY, 5);
      saveWeights(TINY, weights, path);
      expect(readWeights(TINY, readFileSync(path))).toEqual(weights);
      const broken: NetworkWeights = {
        ...weights,
        layers: [weights.layers[0] ?? null, null, weights.layers[2] ?? null],
      };
      expect(errorOf(() => saveWeights(TINY, broken, path))).toContain('layer 1 (connected) has no weights');
      expect(readdirSync(directory)).toEqual(['tiny.weights']);
      expect(readWeights(TINY, readFileSync(path))).toEqual(weights);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('generates the same random weights for the same seed', () => {
    expect(randomWeights(TINY, 42)).toEqual(randomWeights(TINY, 42));
    expect(randomWeights(TINY, 42)).not.toEqual(randomWeights(TINY, 43));
  });
});
