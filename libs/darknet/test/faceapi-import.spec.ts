import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { loadCfg } from '../src/network/parse-network';
import type { ConvolutionalLayer, RegionLayer } from '../src/network/types';
import { forwardReference } from '../src/reference/forward';
import { importFaceapiModels, IMPORT_SUMMARY_FILE } from '../src/import/faceapi/import-faceapi';
import { shiftedKernelForSameStride2 } from '../src/import/faceapi/kernel-layout';
import { readTfjsWeights } from '../src/import/faceapi/tfjs-weights';
import { DarknetModelBuilder } from '../src/import/faceapi/darknet-model-builder';
import { loadWeights } from '../src/weights/read-weights';
import { SeededRandom } from '../src/util/seeded-random';
import { FACEAPI_MODEL_DIR } from './support/faceapi-package';

describe('readTfjsWeights', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'tfjs-weights-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  function writeModel(weights: unknown[], shards: Uint8Array[]): void {
    const paths = shards.map((_, i) => `m.shard${i}.bin`);
    shards.forEach((bytes, i) => writeFileSync(join(directory, paths[i]!), bytes));
    writeFileSync(join(directory, 'm-weights_manifest.json'), JSON.stringify([{ paths, weights }]));
  }

  it('dequantises uint8/uint16 as q * scale + min, widens float16 and reads float32, across shards', () => {
    const float32 = new Uint8Array(new Float32Array([1.5, -2.25]).buffer);
    const uint16 = new Uint8Array(new Uint16Array([0, 1000, 65535]).buffer);
    // float16: 1.0 = 0x3c00, -2.0 = 0xc000, 2^-24 (smallest subnormal) = 0x0001
    const float16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x0001]).buffer);
    const uint8 = new Uint8Array([0, 7, 255]);
    const all = new Uint8Array([...uint8, ...float32, ...uint16, ...float16]);
    writeModel(
      [
        { name: 'a', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.1, min: -1 } },
        { name: 'b', shape: [2, 1], dtype: 'float32' },
        { name: 'c', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.001, min: 2 } },
        { name: 'd', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
      ],
      [all.subarray(0, 5), all.subarray(5)],
    );
    const weights = readTfjsWeights(directory, 'm');
    expect([...weights.get('a')!.values]).toEqual([-1, 7 * 0.1 - 1, 255 * 0.1 - 1].map(Math.fround));
    expect([...weights.get('b')!.values]).toEqual([1.5, -2.25]);
    expect(weights.get('b')!.shape).toEqual([2, 1]);
    expect([...weights.get('c')!.values]).toEqual([2, 1000 * 0.001 + 2, 65535 * 0.001 + 2].map(Math.fround));
    expect([...weights.get('d')!.values]).toEqual([1, -2, 2 ** -24].map(Math.fround));
  });

  it('names the weight and byte range when the shards are too short', () => {
    writeModel([{ name: 'w', shape: [4], dtype: 'float32' }], [new Uint8Array(12)]);
    expect(() => readTfjsWeights(directory, 'm')).toThrow(
      /m-weights_manifest\.json: 'w' needs bytes 0\.\.16 of m\.shard0\.bin, which has 12/,
    );
  });

  it('rejects trailing bytes, unknown quantisation and a missing manifest', () => {
    writeModel([{ name: 'w', shape: [1], dtype: 'float32' }], [new Uint8Array(8)]);
    expect(() => readTfjsWeights(directory, 'm')).toThrow(
      /group 0: the weights use 4 bytes but m\.shard0\.bin has 8/,
    );
    writeModel(
      [{ name: 'w', shape: [1], dtype: 'float32', quantization: { dtype: 'int4', scale: 1, min: 0 } }],
      [new Uint8Array(1)],
    );
    expect(() => readTfjsWeights(directory, 'm')).toThrow(/'w'\) uses quantization dtype int4/);
    expect(() => readTfjsWeights(directory, 'absent')).toThrow(/absent-weights_manifest\.json: cannot read/);
  });
});

/** TF `conv2d(..., strides 2, 'same')` with a 3x3 kernel, written out directly (one channel in and out). */
function tfSameStride2(input: Float32Array, size: number, kernel: Float32Array): Float32Array {
  const out = Math.ceil(size / 2);
  const padBefore = Math.floor(Math.max((out - 1) * 2 + 3 - size, 0) / 2);
  const output = new Float32Array(out * out);
  for (let oy = 0; oy < out; oy += 1) {
    for (let ox = 0; ox < out; ox += 1) {
      let sum = 0;
      for (let ky = 0; ky < 3; ky += 1) {
        for (let kx = 0; kx < 3; kx += 1) {
          const y = oy * 2 + ky - padBefore;
          const x = ox * 2 + kx - padBefore;
          if (y >= 0 && y < size && x >= 0 && x < size) sum += input[y * size + x]! * kernel[ky * 3 + kx]!;
        }
      }
      output[oy * out + ox] = sum;
    }
  }
  return output;
}

describe('shiftedKernelForSameStride2', () => {
  it('reproduces TF same padding (0 before, 1 after) on even inputs with darknet padding=1', () => {
    const random = new SeededRandom(7);
    for (const size of [4, 8, 14]) {
      const kernel = random.fill(9, -1, 1);
      const input = random.fill(size * size, -1, 1);
      const builder = new DarknetModelBuilder('shift', { width: size, height: size, channels: 1 }, []);
      builder.convolutional({
        filters: 1,
        size: 4,
        stride: 2,
        padding: 1,
        activation: 'linear',
        kernel: shiftedKernelForSameStride2(kernel, 1),
        biases: new Float32Array(1),
      });
      const model = builder.build();
      const darknet = forwardReference(model.network, model.weights, input).raw[0]!.data;
      const expected = tfSameStride2(input, size, kernel);
      expect(darknet).toHaveLength(expected.length);
      darknet.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 5));
    }
  });
});

describe('importFaceapiModels', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'faceapi-import-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('writes cfg, weights and names that load back as ordinary darknet models', () => {
    const imported = importFaceapiModels(FACEAPI_MODEL_DIR, directory);

    const detector = loadCfg(imported.detector.files.cfg);
    expect(detector.inputShape).toEqual([3, 416, 416]);
    const region = detector.layers[detector.layers.length - 1] as RegionLayer;
    expect(region).toMatchObject({ type: 'region', classes: 1, num: 5, coords: 4, softmax: true });
    expect(region.anchors).toEqual([
      1.603231, 2.094468, 6.041143, 7.080126, 2.882459, 3.518061, 4.266906, 5.178857, 9.041765, 10.66308,
    ]);
    expect(region.inputShape).toEqual([30, 13, 13]);
    const depthwise = detector.layers[2] as ConvolutionalLayer;
    expect(depthwise).toMatchObject({ type: 'convolutional', groups: 16, filters: 16, activation: 'linear' });
    const detectorWeights = loadWeights(detector, imported.detector.files.weights);
    expect(detectorWeights.layers[0]!.weights).toEqual(imported.detector.model.weights.layers[0]!.weights);
    expect(readFileSync(imported.detector.files.names, 'utf8')).toBe('face\n');

    const expression = loadCfg(imported.expression.files.cfg);
    expect(expression.inputShape).toEqual([3, 112, 112]);
    expect(expression.outputShape).toEqual([7, 1, 1]);
    expect(expression.layers.map((layer) => layer.type).slice(-3)).toEqual([
      'avgpool',
      'connected',
      'softmax',
    ]);
    expect(expression.layers.filter((layer) => layer.type === 'shortcut')).toHaveLength(4 * 5);
    loadWeights(expression, imported.expression.files.weights);
    expect(readFileSync(imported.expression.files.names, 'utf8').trim().split('\n')).toEqual([
      'neutral',
      'happy',
      'sad',
      'angry',
      'fearful',
      'disgusted',
      'surprised',
    ]);

    const summary = JSON.parse(readFileSync(join(directory, IMPORT_SUMMARY_FILE), 'utf8')) as {
      expression: { preprocessing: { mean: number[]; padToSquare: string } };
      labelMapping: Record<string, string>;
    };
    expect(summary.expression.preprocessing).toMatchObject({
      mean: [122.782, 117.001, 104.298],
      padToSquare: 'centred',
    });
    expect(summary.labelMapping['happy']).toBe('Happiness');
  });
});
