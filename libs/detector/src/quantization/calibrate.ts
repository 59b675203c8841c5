import { createDetector } from '../create-detector';
import { type Detector } from '../detector';
import { DetectorError } from '../detector-error';
import type { FrameDescription, LayerInfo, NetworkInput } from '../types';
import {
  ActivationHistogram,
  entropyRange,
  minMaxRange,
  percentileRange,
  quantizationError,
  type RealRange,
  uint8Quantization,
  widenedRange,
} from './activation-ranges';
import {
  type Int8Plan,
  type Int8PlanLayer,
  INT8_PLAN_FORMAT,
  type RangeMethod,
  sha256Hex,
} from './int8-plan';
import { outputAgreement, type LabelledFrame } from './int8-evaluation';

/** A decoded image (packed rows) to calibrate or evaluate on. */
export interface CalibrationFrame {
  readonly data: Uint8Array;
  readonly description: FrameDescription;
}

export type CalibrationMethod = RangeMethod | 'auto';

export interface CalibrationOptions {
  readonly cfg: string;
  readonly weights: Buffer;
  readonly frames: readonly CalibrationFrame[];
  /** How frames become the network input (createDetector's `input`); default: darknet's letterbox. */
  readonly input?: NetworkInput;
  /** 'auto' (default): per tensor, the range with the least quantisation error on the calibration data. */
  readonly method?: CalibrationMethod;
  /** Share kept by the percentile method (default 0.9999). */
  readonly percentile?: number;
  /** Layers kept in FP32; default: the last convolution before [region]. */
  readonly keepFp32?: readonly number[];
  readonly threads?: number;
  readonly log?: (line: string) => void;
}

/** Per layer: the input's observed range, each method's range and error, and the choice. */
export interface LayerCalibration {
  readonly index: number;
  readonly observed: RealRange;
  readonly candidates: Record<RangeMethod, RealRange & { meanSquaredError: number }>;
  readonly chosen: RangeMethod;
}

/**
 * The calibrated range of every tensor the network computes before [region] (the chosen method per tensor): the
 * network input, each layer's output, and a convolution's output before a leaky/linear activation. This is what a
 * TensorRT calibration cache is written from (libs/darknet `tensorRtCalibrationCache`).
 */
export interface CalibratedTensors {
  readonly input: RealRange;
  readonly layers: ReadonlyArray<{
    readonly index: number;
    readonly output: RealRange;
    readonly preActivation?: RealRange;
  }>;
}

export interface CalibrationResult {
  readonly plan: Int8Plan;
  readonly layers: readonly LayerCalibration[];
  readonly tensors: CalibratedTensors;
}

const METHODS: readonly RangeMethod[] = ['minmax', 'percentile', 'entropy'];

/** darknet's leaky slope; a leaky output y < 0 came from y / LEAKY_SLOPE. */
const LEAKY_SLOPE = 0.1;

/** One tensor whose values calibration collects: the network input, a layer output or a pre-activation. */
interface TensorProbe {
  readonly key: string;
  readonly values: (input: Float32Array, outputs: readonly Float32Array[]) => Float32Array;
}

/** Executed layers: everything before the first [region] (what forwardLayers can return). */
function executedLayers(detector: Detector): LayerInfo[] {
  const region = detector.info.layers.findIndex((layer) => layer.type === 'region');
  return region < 0 ? [...detector.info.layers] : detector.info.layers.slice(0, region);
}

/** The values before a leaky (or linear) activation, recovered from the values after it. */
function beforeActivation(values: Float32Array, activation: string | undefined): Float32Array {
  if (activation !== 'leaky') return values;
  return values.map((value) => (value < 0 ? value / LEAKY_SLOPE : value));
}

/**
 * Calibrates the INT8 plan of a network: runs the FP32 network over the frames twice (ranges, then 2048-bin
 * histograms of every layer's output, of the input and of convolution outputs before leaky/linear activations),
 * derives each method's range per tensor and picks one. Returns the plan (uint8 input and output scales per int8
 * layer, FP32 for `keepFp32`), what was measured for each int8 layer's input, and every tensor's range.
 */
export async function calibrateInt8(options: CalibrationOptions): Promise<CalibrationResult> {
  if (options.frames.length === 0) {
    throw new DetectorError('EMOFLEET_BAD_ARGUMENT', 'calibration needs at least one image');
  }
  const log = options.log ?? (() => undefined);
  const detector = await createDetector({
    cfg: options.cfg,
    weights: options.weights,
    threads: options.threads ?? 0,
    ...(options.input ? { input: options.input } : {}),
  });
  try {
    const capable = detector.info.int8CapableLayers;
    const keep = new Set(options.keepFp32 ?? defaultFp32Layers(detector));
    const calibrated = capable.filter((index) => !keep.has(index));
    const executed = executedLayers(detector);
    const position = new Map(executed.map((layer, at) => [layer.index, at]));
    const outputOf = (index: number) => (input: Float32Array, outputs: readonly Float32Array[]) =>
      index < 0 ? input : (outputs[position.get(index) ?? -1] as Float32Array);
    const probes: TensorProbe[] = [
      { key: 'input', values: outputOf(-1) },
      ...executed.flatMap((layer): TensorProbe[] => [
        { key: `output:${layer.index}`, values: outputOf(layer.index) },
        ...(layer.type === 'convolutional' && layer.activation === 'leaky'
          ? [
              {
                key: `pre:${layer.index}`,
                values: (input: Float32Array, outputs: readonly Float32Array[]) =>
                  beforeActivation(outputOf(layer.index)(input, outputs), layer.activation),
              },
            ]
          : []),
      ]),
    ];
    const visit = async (pass: string, use: (probe: TensorProbe, values: Float32Array) => void) => {
      for (const [at, frame] of options.frames.entries()) {
        const tensor = await detector.preprocess(frame.data, frame.description);
        const outputs = await detector.forwardLayers(
          tensor,
          executed.map((layer) => layer.index),
        );
        for (const probe of probes) {
          use(probe, probe.values(tensor, outputs));
          await new Promise((resolve) => setImmediate(resolve));
        }
        log(`${pass}: image ${at + 1}/${options.frames.length}`);
      }
    };
    const ranges = new Map<string, RealRange>();
    await visit('ranges', (probe, values) =>
      ranges.set(probe.key, widenedRange(values, ranges.get(probe.key))),
    );
    const histograms = new Map(
      probes.map((probe) => {
        const range = ranges.get(probe.key) ?? { min: 0, max: 0 };
        return [probe.key, new ActivationHistogram(range.min, range.max)] as const;
      }),
    );
    await visit('histograms', (probe, values) => histograms.get(probe.key)?.add(values));
    const method = options.method ?? 'auto';
    const percentile = options.percentile ?? 0.9999;
    const measure = (
      key: string,
    ): LayerCalibration['candidates'] & { chosen: RangeMethod; observed: RealRange } => {
      const histogram = histograms.get(key) as ActivationHistogram;
      const measured = (range: RealRange) => ({
        ...range,
        meanSquaredError: quantizationError(histogram, range),
      });
      const candidates = {
        minmax: measured(minMaxRange(histogram)),
        percentile: measured(percentileRange(histogram, percentile)),
        entropy: measured(entropyRange(histogram)),
      };
      const chosen =
        method === 'auto'
          ? METHODS.reduce((best, next) =>
              candidates[next].meanSquaredError < candidates[best].meanSquaredError ? next : best,
            )
          : method;
      return { ...candidates, chosen, observed: { min: histogram.min, max: histogram.max } };
    };
    const measuredByKey = new Map<string, ReturnType<typeof measure>>();
    for (const probe of probes) {
      measuredByKey.set(probe.key, measure(probe.key));
      // Let the event loop run between tensors (a BullMQ worker renews its job lock meanwhile).
      await new Promise((resolve) => setImmediate(resolve));
    }
    const chosenRange = (key: string): RealRange & { method: RangeMethod } => {
      const measured = measuredByKey.get(key);
      if (!measured) throw new Error(`internal: no calibration of tensor ${key}`);
      const { min, max } = measured[measured.chosen];
      return { min, max, method: measured.chosen };
    };
    const inputKey = (index: number) => (index === 0 ? 'input' : `output:${index - 1}`);
    const layers = calibrated.map((index): LayerCalibration => {
      const measured = measuredByKey.get(inputKey(index));
      if (!measured) throw new Error(`internal: no calibration of layer ${index}'s input`);
      const { chosen, observed, minmax, percentile: kept, entropy } = measured;
      return { index, observed, candidates: { minmax, percentile: kept, entropy }, chosen };
    });
    const outputQuantization = (index: number) => {
      const activation = executed[position.get(index) ?? -1]?.activation;
      if (activation === 'leaky') {
        const range = chosenRange(`pre:${index}`);
        return uint8Quantization(range, range.method);
      }
      if (activation === 'linear') {
        const range = chosenRange(`output:${index}`);
        return uint8Quantization(range, range.method);
      }
      if (activation === 'relu') {
        const range = chosenRange(`output:${index}`);
        return uint8Quantization({ min: 0, max: range.max }, range.method);
      }
      return undefined;
    };
    const planLayers: Int8PlanLayer[] = capable.map((index) => {
      const layer = layers.find((candidate) => candidate.index === index);
      if (!layer) return { index, precision: 'fp32', reason: 'kept in fp32 by the calibration options' };
      const output = outputQuantization(index);
      return {
        index,
        precision: 'int8',
        input: uint8Quantization(layer.candidates[layer.chosen], layer.chosen),
        ...(output ? { output } : {}),
      };
    });
    const plan: Int8Plan = {
      format: INT8_PLAN_FORMAT,
      version: 1,
      network: { cfgSha256: sha256Hex(options.cfg), weightsSha256: sha256Hex(options.weights) },
      weights: 'per-output-channel-symmetric-int8',
      activations: 'per-tensor-asymmetric-uint8',
      calibration: {
        images: options.frames.length,
        method: method === 'auto' ? 'auto (least error per layer)' : method,
      },
      layers: planLayers,
    };
    const plain = (range: RealRange): RealRange => ({ min: range.min, max: range.max });
    const tensors: CalibratedTensors = {
      input: plain(chosenRange('input')),
      layers: executed.map((layer) => ({
        index: layer.index,
        output: plain(chosenRange(`output:${layer.index}`)),
        ...(measuredByKey.has(`pre:${layer.index}`)
          ? { preActivation: plain(chosenRange(`pre:${layer.index}`)) }
          : {}),
      })),
    };
    return { plan, layers, tensors };
  } finally {
    detector.dispose();
  }
}

/** The last convolution before [region]: its output is decoded directly, so it stays FP32 by default. */
export function defaultFp32Layers(detector: Detector): number[] {
  if (!detector.info.hasRegion) return [];
  const convolutions = detector.info.layers.filter((layer) => layer.type === 'convolutional');
  const last = convolutions[convolutions.length - 1];
  return last ? [last.index] : [];
}

/** A plan where only `index` (of the int8 layers in `plan`) stays int8: the sensitivity probe. */
export function planWithOnly(plan: Int8Plan, index: number): Int8Plan {
  return {
    ...plan,
    layers: plan.layers.map((layer) =>
      layer.index === index || layer.precision === 'fp32'
        ? layer
        : { index: layer.index, precision: 'fp32', reason: 'sensitivity probe' },
    ),
  };
}

export interface LayerSensitivity {
  readonly index: number;
  /** Agreement (or labelled accuracy) with only this layer in INT8, 0..1. */
  readonly accuracy: number;
  /** Points lost against FP32 (percentage points). */
  readonly drop: number;
}

/**
 * Per-layer sensitivity: the accuracy drop (percentage points) when only that layer runs in INT8, measured on
 * `frames` (labelled: against the labels; unlabelled: top detection agreement with FP32).
 */
export async function layerSensitivity(
  options: { cfg: string; weights: Buffer; threads?: number; log?: (line: string) => void },
  plan: Int8Plan,
  frames: readonly LabelledFrame[],
): Promise<LayerSensitivity[]> {
  const baseline = await outputAgreement({ ...options, plan: undefined }, frames);
  const result: LayerSensitivity[] = [];
  for (const layer of plan.layers) {
    if (layer.precision !== 'int8') continue;
    const accuracy = await outputAgreement({ ...options, plan: planWithOnly(plan, layer.index) }, frames);
    result.push({ index: layer.index, accuracy, drop: (baseline - accuracy) * 100 });
    options.log?.(`sensitivity: layer ${layer.index}: ${(accuracy * 100).toFixed(1)} %`);
  }
  return result;
}
