import { useMemo } from 'react';
import uPlot from 'uplot';
import { useTheme } from '../layout/theme';
import { type ChartPalette, readChartPalette, seriesColour } from './chart-palette';
import { type ChartOptions, UPlotChart } from './UPlotChart';

export interface BarSeries {
  name: string;
  values: ReadonlyArray<number | null>;
  colour?: (palette: ChartPalette, index: number) => string;
}

interface BarChartProps {
  /** Bar positions (e.g. layer index, bin start). */
  x: readonly number[];
  bars: readonly BarSeries[];
  xLabel: string;
  yLabel: string;
  formatX?: (value: number) => string;
  formatY?: (value: number) => string;
  height?: number;
  testId?: string;
  label: string;
}

const bars = uPlot.paths.bars;

/** Bars (uPlot's bar path builder). Series that are null at a position draw nothing there. */
export function BarChart({
  x,
  bars: series,
  xLabel,
  yLabel,
  formatX,
  formatY,
  height = 220,
  testId,
  label,
}: BarChartProps) {
  const { theme } = useTheme();
  const names = series.map((entry) => entry.name).join('\u0000');
  const options = useMemo<ChartOptions>(() => {
    if (bars === undefined) throw new Error('this uPlot build has no bar paths');
    const palette = readChartPalette();
    const axis: uPlot.Axis = {
      stroke: palette.axis,
      grid: { stroke: palette.grid, width: 1 },
      ticks: { stroke: palette.grid, width: 1 },
    };
    const formatYValue = formatY ?? ((value: number) => String(value));
    return {
      height,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, distr: 2 } },
      axes: [
        {
          ...axis,
          label: xLabel,
          values: (_: uPlot, ticks: number[]) =>
            ticks.map((tick) => (formatX ? formatX(tick) : String(tick))),
        },
        { ...axis, label: yLabel, size: 64, values: (_: uPlot, ticks: number[]) => ticks.map(formatYValue) },
      ],
      series: [
        {
          label: xLabel,
          value: (_: uPlot, value: number | null) =>
            value === null ? '–' : formatX ? formatX(value) : String(value),
        },
        ...series.map((entry, index) => {
          const colour = entry.colour?.(palette, index) ?? seriesColour(palette, index);
          return {
            label: entry.name,
            stroke: colour,
            fill: colour,
            width: 0,
            paths: bars({ size: [0.8, 48], align: 0 }),
            points: { show: false },
            value: (_: uPlot, value: number | null) => (value === null ? '–' : formatYValue(value)),
          };
        }),
      ],
    };
    // Re-created when the series, labels, height or theme change; formatters are read at creation.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [names, xLabel, yLabel, height, theme]);
  const data = useMemo<uPlot.AlignedData>(
    () => [x as number[], ...series.map((entry) => entry.values as Array<number | null>)],
    [x, series],
  );
  return <UPlotChart options={options} data={data} testId={testId} label={label} />;
}
