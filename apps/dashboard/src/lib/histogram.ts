export interface Histogram {
  /** Left edge of each bin. */
  starts: number[];
  binWidth: number;
  counts: number[];
}

const NICE_WIDTHS = [0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 500, 1000];

/**
 * Counts `values` in equal bins starting at 0, with a "nice" width that gives at most `maxBins` bins. Used for
 * the distribution of FPS across devices.
 */
export function histogram(values: readonly number[], maxBins = 24): Histogram {
  if (values.length === 0) return { starts: [], binWidth: 1, counts: [] };
  const highest = Math.max(...values);
  const binWidth = NICE_WIDTHS.find((width) => highest / width < maxBins) ?? Math.ceil(highest / maxBins);
  const bins = Math.floor(highest / binWidth) + 1;
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(value / binWidth)));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { starts: counts.map((_, bin) => bin * binWidth), binWidth, counts };
}
