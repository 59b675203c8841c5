import { join } from 'node:path';
import {
  ActivationHistogram,
  calibrateInt8,
  createDetector,
  DetectorError,
  entropyRange,
  type Int8Plan,
  layerSensitivity,
  labelWithFp32,
  minMaxRange,
  parseInt8Plan,
  percentileRange,
  uint8Quantization,
} from '@emofleet/detector';
import { networkWithRandomWeights, PAPER_MODELS, randomBytes, randomFloats } from './support/networks';

const tiny = networkWithRandomWeights(join(PAPER_MODELS, 'yolov2-tiny-expression.cfg'), 5);
const otherWeights = networkWithRandomWeights(join(PAPER_MODELS, 'yolov2-tiny-expression.cfg'), 6).weights;
const description = { width: 320, height: 240, format: 'rgb24' } as const;
const frames = [11, 12, 13].map((seed) => ({ data: randomBytes(320 * 240 * 3, seed), description }));

function sqnrDecibels(actual: Float32Array, expected: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < expected.length; i += 1) {
    const e = expected[i] ?? 0;
    signal += e * e;
    noise += ((actual[i] ?? 0) - e) ** 2;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-30));
}

async function rejection(promise: Promise<unknown>): Promise<DetectorError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DetectorError);
  return error as DetectorError;
}

describe('activation range methods', () => {
  // 100,000 values uniform in [-0.1, 1] plus four outliers at 5 (under the 0.005 % tail percentile clips).
  const values = new Float32Array(100_004);
  randomFloats(100_000, 3).forEach((v, i) => (values[i] = v * 1.1 - 0.1));
  values.fill(5, 100_000);
  const histogram = new ActivationHistogram(-0.1, 5);
  histogram.add(values);

  it('minmax keeps everything, percentile and entropy clip the outliers', () => {
    expect(minMaxRange(histogram)).toEqual({ min: -0.1, max: 5 });
    const percentile = percentileRange(histogram, 0.9999);
    expect(percentile.max).toBeGreaterThan(0.99);
    expect(percentile.max).toBeLessThan(1.1);
    expect(percentile.min).toBeLessThanOrEqual(0);
    const entropy = entropyRange(histogram);
    expect(entropy.max).toBeGreaterThan(0.9);
    expect(entropy.max).toBeLessThan(2);
  });

  it('uint8 parameters represent real 0 exactly', () => {
    const q = uint8Quantization({ min: -0.1, max: 1.05 }, 'minmax');
    expect(q.zeroPoint).toBe(Math.round(0.1 / q.scale));
    expect(q.scale).toBeCloseTo(1.15 / 255, 10);
  });
});

jest.setTimeout(120_000);

describe('INT8 plan, calibration and the int8 cpu path', () => {
  let plan: Int8Plan;
  beforeAll(async () => {
    ({ plan } = await calibrateInt8({ cfg: tiny.cfg, weights: tiny.weights, frames, threads: 2 }));
  }, 120_000);

  it('calibrates every dense convolution but the one before [region]', () => {
    const int8 = plan.layers.filter((layer) => layer.precision === 'int8').map((layer) => layer.index);
    expect(int8).toEqual([0, 2, 4, 6, 8, 10, 12, 13]);
    expect(plan.layers.find((layer) => layer.index === 14)).toMatchObject({ precision: 'fp32' });
    expect(plan.layers[0]?.input?.min).toBe(0); // the image input is never negative
    expect(parseInt8Plan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('runs the plan in INT8 close to FP32, and reports it', async () => {
    const fp32 = await createDetector({ cfg: tiny.cfg, weights: tiny.weights, threads: 2 });
    const int8 = await createDetector({ cfg: tiny.cfg, weights: tiny.weights, threads: 2, int8Plan: plan });
    try {
      expect(fp32.info.int8Layers).toEqual([]);
      expect(int8.info.int8Layers).toEqual([0, 2, 4, 6, 8, 10, 12, 13]);
      expect(['amx-int8', 'avx512-vnni', 'avx2', 'portable']).toContain(int8.info.int8Kernel);
      const tensor = await fp32.preprocess(randomBytes(320 * 240 * 3, 99), description);
      const expected = await fp32.forwardRaw(tensor);
      const actual = await int8.forwardRaw(tensor);
      const sqnr = sqnrDecibels(actual, expected);
      expect(sqnr).toBeGreaterThan(20); // 8 int8 layers in a row on random weights
      expect(sqnr).toBeLessThan(80); // and it really is not the FP32 path
      const detections = await int8.detect(frames[0]?.data ?? new Uint8Array(), description);
      expect(Array.isArray(detections)).toBe(true);
    } finally {
      fp32.dispose();
      int8.dispose();
    }
  });

  it('forwardLayers returns the same tensors as forwardRaw per layer', async () => {
    const detector = await createDetector({ cfg: tiny.cfg, weights: tiny.weights, threads: 2 });
    try {
      const tensor = randomFloats(3 * 416 * 416, 4);
      const [five, eleven] = await detector.forwardLayers(tensor, [5, 11]);
      expect(five).toEqual(await detector.forwardRaw(tensor, { layer: 5 }));
      expect(eleven).toEqual(await detector.forwardRaw(tensor, { layer: 11 }));
      const error = await rejection(detector.forwardLayers(tensor, [15]));
      expect(error.message).toMatch(/layer 15 is outside 0..14/);
    } finally {
      detector.dispose();
    }
  });

  it('measures per-layer sensitivity against FP32', async () => {
    const labelled = await labelWithFp32({ cfg: tiny.cfg, weights: tiny.weights, threads: 2 }, frames);
    const sensitivity = await layerSensitivity(
      { cfg: tiny.cfg, weights: tiny.weights, threads: 2 },
      plan,
      labelled,
    );
    expect(sensitivity.map((layer) => layer.index)).toEqual([0, 2, 4, 6, 8, 10, 12, 13]);
    for (const layer of sensitivity) {
      expect(layer.accuracy).toBeGreaterThanOrEqual(0);
      expect(layer.accuracy).toBeLessThanOrEqual(1);
      expect(layer.drop).toBeCloseTo((1 - layer.accuracy) * 100, 6);
    }
  });

  it('refuses a plan calibrated for other weights, and malformed plans by field', async () => {
    const mismatch = await rejection(
      createDetector({ cfg: tiny.cfg, weights: otherWeights, int8Plan: plan }),
    );
    expect(mismatch.code).toBe('EMOFLEET_BAD_ARGUMENT');
    expect(mismatch.message).toMatch(/int8Plan: calibrated for cfg sha256 .* but this model has/);
    const broken = JSON.parse(JSON.stringify(plan)) as { layers: Array<{ input?: { scale: number } }> };
    const first = broken.layers[0];
    if (first?.input) first.input.scale = -1;
    expect(() => parseInt8Plan(broken)).toThrow('int8Plan.layers[0].input.scale: must be positive');
    expect(() => parseInt8Plan({ format: 'x' })).toThrow("int8Plan.format: must be 'emofleet-int8-plan'");
  });

  it('refuses int8 on a layer the native path cannot run, naming it', async () => {
    const pool = {
      ...plan,
      layers: [...plan.layers, { index: 1, precision: 'int8' as const, input: plan.layers[0]?.input }],
    };
    const error = await rejection(createDetector({ cfg: tiny.cfg, weights: tiny.weights, int8Plan: pool }));
    expect(error.message).toMatch(/quantization: layer 1 \(cfg line \d+\): is maxpool/);
  });
});
