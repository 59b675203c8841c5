import { useMemo } from 'react';
import type uPlot from 'uplot';
import { useTheme } from '../layout/theme';
import { type ChartPalette, readChartPalette, seriesColour } from './chart-palette';
import { type ChartOptions, UPlotChart } from './UPlotChart';

export interface TimeSeriesLine {
  name: string;
  values: ReadonlyArray<number | null>;
  /** Colour from the palette (default: by position). */
  colour?: (palette: ChartPalette, index: number) => string;
  dashed?: boolean;
}

interface TimeSeriesChartProps {
  /** Seconds since the epoch, ascending. */
  x: readonly number[];
  lines: readonly TimeSeriesLine[];
  unit: string;
  height?: number;
  testId?: string;
  label: string;
  /** Fill the area under the lines (stacked look for counts). */
  area?: boolean;
}

/** Lines over time (uPlot): built for many points; hover shows every value at that time in the legend. */
export function TimeSeriesChart({
  x,
  lines,
  unit,
  height = 220,
  testId,
  label,
  area = false,
}: TimeSeriesChartProps) {
  const { theme } = useTheme();
  const names = lines.map((line) => line.name).join('\u0000');
  const options = useMemo<ChartOptions>(() => {
    const palette = readChartPalette();
    const axis: uPlot.Axis = {
      stroke: palette.axis,
      grid: { stroke: palette.grid, width: 1 },
      ticks: { stroke: palette.grid, width: 1 },
    };
    return {
      height,
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, label: unit, size: 56 }],
      series: [
        {},
        ...lines.map((line, index) => {
          const colour = line.colour?.(palette, index) ?? seriesColour(palette, index);
          return {
            label: line.name,
            stroke: colour,
            width: 2,
            dash: line.dashed === true ? [6, 4] : undefined,
            fill: area ? `${colour}22` : undefined,
            spanGaps: false,
            points: { show: false },
            value: (_: uPlot, value: number | null) => (value === null ? '–' : `${value.toFixed(1)} ${unit}`),
          };
        }),
      ],
    };
    // The chart is re-created when the set of lines, the unit, the height or the theme changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [names, unit, height, theme, area]);
  const data = useMemo<uPlot.AlignedData>(
    () => [x as number[], ...lines.map((line) => line.values as Array<number | null>)],
    [x, lines],
  );
  return <UPlotChart options={options} data={data} testId={testId} label={label} />;
}
