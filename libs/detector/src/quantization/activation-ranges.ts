import type { Int8InputQuantization, RangeMethod } from './int8-plan';

/** Histogram resolution for range selection (TensorRT's entropy calibrator uses 2048 as well). */
export const HISTOGRAM_BINS = 2048;
const QUANTIZED_LEVELS = 256;

/** A calibrated real range; it always contains 0 so that zero padding is exact. */
export interface RealRange {
  readonly min: number;
  readonly max: number;
}

/** Counts of a tensor's values over [min, max] in equal bins (values outside land in the end bins). */
export class ActivationHistogram {
  readonly counts: Float64Array;
  readonly binWidth: number;
  total = 0;

  constructor(
    readonly min: number,
    readonly max: number,
    bins = HISTOGRAM_BINS,
  ) {
    this.counts = new Float64Array(bins);
    this.binWidth = max > min ? (max - min) / bins : 1;
  }

  add(values: Float32Array): void {
    const last = this.counts.length - 1;
    const inverse = 1 / this.binWidth;
    for (const value of values) {
      const raw = Math.floor((value - this.min) * inverse);
      const bin = raw < 0 ? 0 : raw > last ? last : raw;
      this.counts[bin] = (this.counts[bin] ?? 0) + 1;
    }
    this.total += values.length;
  }

  /** Lower edge of bin `index`. */
  edge(index: number): number {
    return this.min + index * this.binWidth;
  }
}

/** Smallest and largest value seen, widened to include 0. */
export function widenedRange(values: Float32Array, range: RealRange = { min: 0, max: 0 }): RealRange {
  let min = range.min;
  let max = range.max;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min: Math.min(min, 0), max: Math.max(max, 0) };
}

export function minMaxRange(histogram: ActivationHistogram): RealRange {
  return { min: histogram.min, max: histogram.max };
}

/** Clips the `(1 - quantile) / 2` tails on each side (e.g. 0.9999 keeps all but 0.005 % per side). */
export function percentileRange(histogram: ActivationHistogram, quantile: number): RealRange {
  const tail = ((1 - quantile) / 2) * histogram.total;
  let low = 0;
  let seen = 0;
  while (low < histogram.counts.length - 1 && seen + (histogram.counts[low] ?? 0) <= tail) {
    seen += histogram.counts[low] ?? 0;
    low += 1;
  }
  let high = histogram.counts.length - 1;
  seen = 0;
  while (high > low && seen + (histogram.counts[high] ?? 0) <= tail) {
    seen += histogram.counts[high] ?? 0;
    high -= 1;
  }
  return { min: Math.min(0, histogram.edge(low)), max: Math.max(0, histogram.edge(high + 1)) };
}

/**
 * Entropy calibration (TensorRT's "entropy calibration 2" idea, for an asymmetric uint8 range): the low end stays at
 * the observed minimum, and the high end is the bin edge whose 256-level quantisation of the clipped histogram is
 * closest to it in Kullback-Leibler divergence.
 */
export function entropyRange(histogram: ActivationHistogram): RealRange {
  const counts = histogram.counts;
  const bins = counts.length;
  // outliersFrom[i]: the mass of bins i.. (what a cut at i folds into its last bin).
  const outliersFrom = new Float64Array(bins + 1);
  for (let i = bins - 1; i >= 0; i -= 1) outliersFrom[i] = (outliersFrom[i + 1] ?? 0) + (counts[i] ?? 0);
  let best = bins;
  let bestDivergence = Number.POSITIVE_INFINITY;
  const zeroBin = Math.min(bins - 1, Math.max(0, Math.floor(-histogram.min / histogram.binWidth)));
  const firstCut = Math.max(QUANTIZED_LEVELS, zeroBin + 1);
  for (let cut = firstCut; cut <= bins; cut += 1) {
    const divergence = clippedDivergence(counts, cut, outliersFrom[cut] ?? 0);
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = cut;
    }
  }
  return { min: histogram.min, max: Math.max(0, histogram.edge(best)) };
}

// KL(P || Q): P = the first `cut` bins with the outliers added to the last, Q = those bins merged into 256 levels
// and spread evenly over each level's non-empty bins. One pass, no allocation (it runs for every cut).
function clippedDivergence(counts: Float64Array, cut: number, outliers: number): number {
  let inside = 0;
  for (let i = 0; i < cut; i += 1) inside += counts[i] ?? 0;
  const referenceTotal = inside + outliers;
  if (referenceTotal === 0 || inside === 0) return Number.POSITIVE_INFINITY;
  let divergence = 0;
  for (let level = 0; level < QUANTIZED_LEVELS; level += 1) {
    const start = Math.floor((level * cut) / QUANTIZED_LEVELS);
    const end = Math.floor(((level + 1) * cut) / QUANTIZED_LEVELS);
    let mass = 0;
    let nonEmpty = 0;
    for (let i = start; i < end; i += 1) {
      const count = counts[i] ?? 0;
      mass += count;
      if (count > 0) nonEmpty += 1;
    }
    const q = nonEmpty > 0 ? mass / nonEmpty / inside : 0;
    for (let i = start; i < end; i += 1) {
      const count = (counts[i] ?? 0) + (i === cut - 1 ? outliers : 0);
      if (count === 0) continue;
      const p = count / referenceTotal;
      divergence += q > 0 && (counts[i] ?? 0) > 0 ? p * Math.log(p / q) : p * Math.log(p / 1e-12);
    }
  }
  return divergence;
}

/**
 * Mean squared quantisation error of the histogram's values under a range: rounding noise (step^2 / 12) inside,
 * the clipping distance outside. The measurement `auto` chooses by.
 */
export function quantizationError(histogram: ActivationHistogram, range: RealRange): number {
  const step = (range.max - range.min) / (QUANTIZED_LEVELS - 1);
  const rounding = (step * step) / 12;
  let error = 0;
  for (let i = 0; i < histogram.counts.length; i += 1) {
    const count = histogram.counts[i] ?? 0;
    if (count === 0) continue;
    const centre = histogram.edge(i + 0.5);
    const clipped = Math.min(range.max, Math.max(range.min, centre));
    error += count * (centre === clipped ? rounding : (centre - clipped) * (centre - clipped));
  }
  return histogram.total > 0 ? error / histogram.total : 0;
}

/** The uint8 parameters of a range (zero point rounded so that real 0 is exactly representable). */
export function uint8Quantization(range: RealRange, method: RangeMethod): Int8InputQuantization {
  const width = range.max - range.min;
  const scale = width > 0 ? width / (QUANTIZED_LEVELS - 1) : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-range.min / scale)));
  return { scale, zeroPoint, min: range.min, max: range.max, method };
}
