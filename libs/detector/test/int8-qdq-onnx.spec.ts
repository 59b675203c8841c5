/**
 * @jest-environment ../darknet/test/support/onnxruntime-environment.js
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportOnnx,
  exportQdqOnnx,
  parseCfg,
  readWeights,
  tensorRtCalibrationCache,
} from '@emofleet/darknet';
import {
  calibrateInt8,
  createDetector,
  int8ConvolutionsOf,
  type CalibrationResult,
} from '@emofleet/detector';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { networkWithRandomWeights, PAPER_MODELS, randomBytes } from './support/networks';

const tiny = networkWithRandomWeights(join(PAPER_MODELS, 'yolov2-tiny-expression.cfg'), 5);
const network = parseCfg(tiny.cfg, tiny.cfgPath);
const description = { width: 320, height: 240, format: 'rgb24' } as const;
const frames = [11, 12, 13].map((seed) => ({ data: randomBytes(320 * 240 * 3, seed), description }));

function sqnrDecibels(actual: Float32Array, expected: Float32Array): number {
  let signal = 0;
  let noise = 0;
  expected.forEach((value, i) => {
    signal += value * value;
    noise += ((actual[i] ?? 0) - value) ** 2;
  });
  return 10 * Math.log10(signal / Math.max(noise, 1e-30));
}

jest.setTimeout(180_000);

// The QDQ export is what the benchmark's ORT-INT8 rows run: the same network, weights and plan scales.
describe('QDQ ONNX of an INT8 plan on onnxruntime vs the emofleet INT8 engine', () => {
  let calibration: CalibrationResult;
  let directory: string;
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'emofleet-qdq-'));
    calibration = await calibrateInt8({ cfg: tiny.cfg, weights: tiny.weights, frames, threads: 2 });
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('quantises every int8 layer before its activation too, and loads into onnxruntime as QLinearConv', async () => {
    const convolutions = int8ConvolutionsOf(calibration.plan);
    expect(convolutions.map((layer) => layer.index)).toEqual([0, 2, 4, 6, 8, 10, 12, 13]);
    for (const layer of convolutions) expect(layer.output?.min).toBeLessThan(0); // leaky: negatives before it
    const model = exportQdqOnnx(network, readWeights(network, tiny.weights), convolutions);
    const optimized = join(directory, 'optimized.onnx');
    const session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: 'all',
      optimizedModelFilePath: optimized,
      intraOpNumThreads: 2,
    });
    await session.release();
    const ops = (onnx.ModelProto.decode(readFileSync(optimized)).graph?.node ?? []).map(
      (node) => node.opType,
    );
    // onnxruntime fused every QDQ group into an integer convolution: it runs the plan in INT8, not fake-quantised.
    expect(ops.filter((op) => op === 'QLinearConv')).toHaveLength(8);
  });

  it('agrees with emofleet INT8 within quantisation tolerance; both stay close to FP32', async () => {
    const model = exportQdqOnnx(
      network,
      readWeights(network, tiny.weights),
      int8ConvolutionsOf(calibration.plan),
    );
    // The QDQ graph as written (dequantise, float convolution, quantise): the plan's definition, the same on every
    // CPU. Fused (the bench's ORT-INT8 rows) onnxruntime's integer kernels depend on the CPU: without VNNI its u8 x
    // s8 products are summed in saturating 16-bit pairs (vpmaddubsw), which took this agreement from about 34 dB
    // (AVX-512 VNNI) to 23 dB (AVX2); the bench reports that per machine.
    const quantized = await ort.InferenceSession.create(model, {
      intraOpNumThreads: 2,
      graphOptimizationLevel: 'disabled',
    });
    const float = await ort.InferenceSession.create(exportOnnx(network, readWeights(network, tiny.weights)), {
      intraOpNumThreads: 2,
    });
    const fp32 = await createDetector({ cfg: tiny.cfg, weights: tiny.weights, threads: 2 });
    const int8 = await createDetector({
      cfg: tiny.cfg,
      weights: tiny.weights,
      threads: 2,
      int8Plan: calibration.plan,
    });
    try {
      const tensor = await fp32.preprocess(randomBytes(320 * 240 * 3, 99), description);
      const feeds = { input: new ort.Tensor('float32', tensor, [1, ...network.inputShape]) };
      const ortInt8 = (await quantized.run(feeds))['raw']?.data as Float32Array;
      const ortFp32 = (await float.run(feeds))['raw']?.data as Float32Array;
      const ours = await int8.forwardRaw(tensor);
      const reference = await fp32.forwardRaw(tensor);
      expect(sqnrDecibels(ortFp32, reference)).toBeGreaterThan(90); // the FP32 export is the same network
      const agreement = sqnrDecibels(ortInt8, ours);
      const ortVsFp32 = sqnrDecibels(ortInt8, reference);
      const oursVsFp32 = sqnrDecibels(ours, reference);
      // Eight 8-bit layers in a row on random weights: well above 25 dB against each other and against FP32.
      expect(agreement).toBeGreaterThan(25);
      expect(ortVsFp32).toBeGreaterThan(25);
      expect(oursVsFp32).toBeGreaterThan(25);
      expect(ortVsFp32).toBeLessThan(60); // onnxruntime really computed the quantised graph
    } finally {
      fp32.dispose();
      int8.dispose();
      await quantized.release();
      await float.release();
    }
  });

  it('writes a TensorRT calibration cache from the same calibration', () => {
    const cache = tensorRtCalibrationCache(network, calibration.tensors, '8.2.1').trimEnd().split('\n');
    expect(cache[0]).toBe('TRT-8201-EntropyCalibration2');
    // input, 15 layer outputs, 8 leaky pre-activations, the raw output
    expect(cache).toHaveLength(1 + 1 + 15 + 8 + 1);
    const scaleOf = (tensor: string) => {
      const hex = cache.find((line) => line.startsWith(`${tensor}: `))?.slice(tensor.length + 2) ?? '';
      return new DataView(Uint8Array.from(Buffer.from(hex, 'hex')).buffer).getFloat32(0, false);
    };
    const input = calibration.tensors.input;
    expect(scaleOf('input')).toBeCloseTo(Math.max(-input.min, input.max) / 127, 6);
    expect(scaleOf('layer0_linear')).toBeGreaterThan(0);
  });
});
