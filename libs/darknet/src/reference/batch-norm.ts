import type { BatchNormWeights } from '../network/types';

const fround = Math.fround;
/** The `.000001f` of darknet's normalize_cpu, as a float32. */
const EPSILON = fround(0.000001);

/**
 * Inference-time batch norm plus bias for `channels` planes of `planeSize` values, in place, exactly as
 * darknet's CPU path does it: `x = (x - mean) / (sqrt(variance) + .000001f)`, then `x *= scale`, then
 * `x += bias` — epsilon is added to the standard deviation, not the variance. Without batch norm only the
 * bias is added.
 */
export function normalizeAndAddBias(
  values: Float32Array,
  channels: number,
  planeSize: number,
  biases: Float32Array,
  batchNorm: BatchNormWeights | null,
): void {
  for (let channel = 0; channel < channels; channel += 1) {
    const bias = biases[channel]!;
    const start = channel * planeSize;
    const end = start + planeSize;
    if (!batchNorm) {
      for (let i = start; i < end; i += 1) values[i] = values[i]! + bias;
      continue;
    }
    const mean = batchNorm.rollingMean[channel]!;
    const deviation = Math.sqrt(batchNorm.rollingVariance[channel]!) + EPSILON;
    const scale = batchNorm.scales[channel]!;
    for (let i = start; i < end; i += 1) {
      const normalized = fround(fround(values[i]! - mean) / deviation);
      values[i] = fround(normalized * scale) + bias;
    }
  }
}
