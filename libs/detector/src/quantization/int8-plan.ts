import { createHash } from 'node:crypto';
import { DetectorError } from '../detector-error';

/** How a tensor's uint8 range was chosen from the calibration data. */
export type RangeMethod = 'minmax' | 'percentile' | 'entropy';

/** The uint8 quantisation of a convolution's input: real = (q - zeroPoint) * scale. */
export interface Int8InputQuantization {
  readonly scale: number;
  readonly zeroPoint: number;
  /** The calibrated real range [min, max] the 256 levels cover. */
  readonly min: number;
  readonly max: number;
  readonly method: RangeMethod;
}

export interface Int8PlanLayer {
  /** darknet layer index (0-based) of a convolutional layer. */
  readonly index: number;
  readonly precision: 'int8' | 'fp32';
  /** int8 layers: the quantisation of the layer's input. */
  readonly input?: Int8InputQuantization;
  /**
   * int8 layers: the uint8 quantisation of the convolution's output before a leaky or linear activation (after a
   * relu). The cpu engine keeps outputs in FP32 and does not read it; the QDQ ONNX export (onnxruntime's
   * QLinearConv) needs it. Absent for logistic activations and plans calibrated before it existed.
   */
  readonly output?: Int8InputQuantization;
  /** fp32 layers: why they stay in floating point. */
  readonly reason?: string;
}

/**
 * A quantisation plan (`emofleet model quantize --out plan.json`), shipped in the model bundle next to the cfg and
 * weights. Weights are quantised when the detector loads them: per output channel, symmetric int8,
 * scale = max|w| / 127 (after batch norm is folded); only activation ranges need calibration and live here.
 */
export interface Int8Plan {
  readonly format: 'emofleet-int8-plan';
  readonly version: 1;
  readonly network: { readonly cfgSha256: string; readonly weightsSha256: string };
  readonly weights: 'per-output-channel-symmetric-int8';
  readonly activations: 'per-tensor-asymmetric-uint8';
  readonly calibration: { readonly images: number; readonly method: string };
  readonly layers: readonly Int8PlanLayer[];
}

export const INT8_PLAN_FORMAT = 'emofleet-int8-plan';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The native detector's `int8Layers` option for a plan. */
export function int8LayersOf(
  plan: Int8Plan,
): Array<{ layer: number; inputScale: number; inputZeroPoint: number }> {
  return plan.layers.flatMap((layer) =>
    layer.precision === 'int8' && layer.input
      ? [{ layer: layer.index, inputScale: layer.input.scale, inputZeroPoint: layer.input.zeroPoint }]
      : [],
  );
}

/**
 * The int8 layers of a plan with their input and (pre-activation) output quantisation: what libs/darknet's
 * `exportQdqOnnx` takes to write the same network as a QDQ ONNX model for onnxruntime.
 */
export function int8ConvolutionsOf(plan: Int8Plan): Array<{
  index: number;
  input: Int8InputQuantization;
  output?: Int8InputQuantization;
}> {
  return plan.layers.flatMap((layer) =>
    layer.precision === 'int8' && layer.input
      ? [{ index: layer.index, input: layer.input, ...(layer.output ? { output: layer.output } : {}) }]
      : [],
  );
}

/** Throws EMOFLEET_BAD_ARGUMENT unless the plan was calibrated for exactly this cfg text and these weights. */
export function checkPlanMatches(plan: Int8Plan, cfgText: string, weights: Uint8Array): void {
  const cfgSha256 = sha256Hex(cfgText);
  const weightsSha256 = sha256Hex(weights);
  if (plan.network.cfgSha256 !== cfgSha256 || plan.network.weightsSha256 !== weightsSha256) {
    throw new DetectorError(
      'EMOFLEET_BAD_ARGUMENT',
      `int8Plan: calibrated for cfg sha256 ${plan.network.cfgSha256.slice(0, 12)}… and weights sha256 ` +
        `${plan.network.weightsSha256.slice(0, 12)}…, but this model has ${cfgSha256.slice(0, 12)}… and ` +
        `${weightsSha256.slice(0, 12)}…`,
    );
  }
}

function fail(where: string, why: string): never {
  throw new DetectorError('EMOFLEET_BAD_ARGUMENT', `int8Plan${where}: ${why}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(where, 'must be a finite number');
  return value;
}

function parseInput(value: unknown, where: string): Int8InputQuantization {
  if (!isRecord(value)) fail(where, 'must be an object { scale, zeroPoint, min, max, method }');
  const scale = finite(value.scale, `${where}.scale`);
  if (scale <= 0) fail(`${where}.scale`, 'must be positive');
  const zeroPoint = finite(value.zeroPoint, `${where}.zeroPoint`);
  if (!Number.isInteger(zeroPoint) || zeroPoint < 0 || zeroPoint > 255) {
    fail(`${where}.zeroPoint`, 'must be an integer 0..255');
  }
  const method = value.method;
  if (method !== 'minmax' && method !== 'percentile' && method !== 'entropy') {
    fail(`${where}.method`, "must be 'minmax', 'percentile' or 'entropy'");
  }
  return {
    scale,
    zeroPoint,
    min: finite(value.min, `${where}.min`),
    max: finite(value.max, `${where}.max`),
    method,
  };
}

/** Validates a parsed plan file; errors name the field, e.g. `int8Plan.layers[3].input.scale: must be positive`. */
export function parseInt8Plan(value: unknown): Int8Plan {
  if (!isRecord(value)) fail('', 'must be a JSON object');
  if (value.format !== INT8_PLAN_FORMAT) fail('.format', `must be '${INT8_PLAN_FORMAT}'`);
  if (value.version !== 1) fail('.version', 'must be 1');
  const network = value.network;
  if (
    !isRecord(network) ||
    typeof network.cfgSha256 !== 'string' ||
    typeof network.weightsSha256 !== 'string'
  ) {
    fail('.network', 'must be { cfgSha256, weightsSha256 }');
  }
  const calibration = value.calibration;
  if (!isRecord(calibration)) fail('.calibration', 'must be an object');
  if (!Array.isArray(value.layers)) fail('.layers', 'must be an array');
  const seen = new Set<number>();
  const layers = value.layers.map((item: unknown, position): Int8PlanLayer => {
    const where = `.layers[${position}]`;
    if (!isRecord(item)) fail(where, 'must be an object');
    const index = finite(item.index, `${where}.index`);
    if (!Number.isInteger(index) || index < 0) fail(`${where}.index`, 'must be a layer index');
    if (seen.has(index)) fail(`${where}.index`, `layer ${index} appears twice`);
    seen.add(index);
    if (item.precision === 'fp32') {
      return {
        index,
        precision: 'fp32',
        ...(typeof item.reason === 'string' ? { reason: item.reason } : {}),
      };
    }
    if (item.precision !== 'int8') fail(`${where}.precision`, "must be 'int8' or 'fp32'");
    return {
      index,
      precision: 'int8',
      input: parseInput(item.input, `${where}.input`),
      ...(item.output === undefined ? {} : { output: parseInput(item.output, `${where}.output`) }),
    };
  });
  return {
    format: INT8_PLAN_FORMAT,
    version: 1,
    network: { cfgSha256: network.cfgSha256, weightsSha256: network.weightsSha256 },
    weights: 'per-output-channel-symmetric-int8',
    activations: 'per-tensor-asymmetric-uint8',
    calibration: {
      images: typeof calibration.images === 'number' ? calibration.images : 0,
      method: typeof calibration.method === 'string' ? calibration.method : 'unknown',
    },
    layers,
  };
}
