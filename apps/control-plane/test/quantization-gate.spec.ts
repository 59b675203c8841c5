import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { type CalibrationFrame, type Detector } from '@emofleet/detector';
import { quantizeWithAccuracyGate } from '../src/pipeline/quantization-gate';

const MODELS = join(__dirname, '../../../libs/darknet/models');
const CFG = readFileSync(join(MODELS, 'yolov2-tiny-expression.cfg'), 'utf8');
const NETWORK = parseCfg(CFG, 'yolov2-tiny-expression.cfg');
const WEIGHTS = Buffer.from(serialiseWeights(NETWORK, randomWeights(NETWORK, 77)));
const DESCRIPTION = { width: 208, height: 208, format: 'rgb24' } as const;

function noiseFrame(seed: number): CalibrationFrame {
  const data = new Uint8Array(208 * 208 * 3);
  let state = seed;
  for (let i = 0; i < data.length; i += 1) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[i] = state >>> 24;
  }
  return { data, description: DESCRIPTION };
}

/** Top class of every frame (score threshold 0, so there always is one). */
async function topClasses(detector: Detector, frames: readonly CalibrationFrame[]): Promise<number[]> {
  const classes: number[] = [];
  for (const frame of frames) {
    const detections = await detector.detect(frame.data, frame.description, { scoreThreshold: 0 });
    classes.push(detections.reduce((best, d) => (d.score > best.score ? d : best)).classId);
  }
  return classes;
}

// The eval set is labelled with the FP32 network's own answers, so FP32 scores 100 % and any loss is quantisation.
describe('quantize: INT8 plan behind the eval-set accuracy gate (real native detector)', () => {
  jest.setTimeout(180_000);
  const evalFrames = Array.from({ length: 12 }, (_, i) => noiseFrame(1000 + i));
  const calibration = Array.from({ length: 4 }, (_, i) => noiseFrame(50 + i));
  let labels: number[] = [];
  const agreement = async (detector: Detector) => {
    const classes = await topClasses(detector, evalFrames);
    if (labels.length === 0) labels = classes; // the first call is the FP32 network
    return classes.filter((c, i) => c === labels[i]).length / classes.length;
  };
  const model = { cfg: CFG, weights: WEIGHTS, threads: 2 };
  const log = () => Promise.resolve();

  // Random weights on noise frames leave the top class a near tie, so even a good plan flips some of them. The pass
  // case on a real network and real images is quantization.integration.spec.ts (face-api's pretrained detector).
  // What is checked here: the gate's verdict follows the budget, and a bad calibration set loses far more than a
  // representative one.
  it('refuses a plan calibrated on a deliberately bad set (black frames), with the report', async () => {
    labels = [];
    const good = await quantizeWithAccuracyGate(model, calibration, agreement, 1, log);
    labels = [];
    const black = [0, 1].map(() => ({ data: new Uint8Array(208 * 208 * 3), description: DESCRIPTION }));
    const bad = await quantizeWithAccuracyGate(model, black, agreement, 1, log);
    expect(good.fp32Accuracy).toBe(1);
    expect(bad.fp32Accuracy).toBe(1);
    expect(good.passed).toBe(good.dropPoints <= 1);
    expect(good.layers.filter((layer) => layer.precision === 'int8')).toHaveLength(8);
    expect(bad.dropPoints).toBeGreaterThan(good.dropPoints);
    expect(bad.passed).toBe(false);
    const lenient = await quantizeWithAccuracyGate(model, calibration, agreement, 100, log);
    expect(lenient.passed).toBe(true);
  });
});
