/** Chart colours, read from the theme's CSS custom properties so charts follow light and dark. */
export interface ChartPalette {
  series: string[];
  axis: string;
  grid: string;
}

const SERIES_VARIABLES = 8;

export function readChartPalette(): ChartPalette {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string) => style.getPropertyValue(name).trim();
  return {
    series: Array.from({ length: SERIES_VARIABLES }, (_, index) => read(`--chart-${index + 1}`)),
    axis: read('--chart-axis'),
    grid: read('--chart-grid'),
  };
}

/** The colour of the n-th series (cycling). */
export function seriesColour(palette: ChartPalette, index: number): string {
  return palette.series[index % palette.series.length] ?? palette.axis;
}

/** Stable colours for the expression labels, so "Anger" is the same colour on every chart. */
const LABEL_SLOTS: Record<string, number> = { Happiness: 2, Sadness: 0, Surprise: 3, Anger: 1 };

export function labelColour(palette: ChartPalette, label: string, fallbackIndex: number): string {
  return seriesColour(palette, LABEL_SLOTS[label] ?? 4 + fallbackIndex);
}
