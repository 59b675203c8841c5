import { useMemo } from 'react';
import type { LayerAnalysis } from '../../api/types';
import { BarChart } from '../../charts/BarChart';
import { type ChartPalette, seriesColour } from '../../charts/chart-palette';
import { formatCompact } from '../../lib/format';
import { type LayerKind, layerBars, totalsByKind } from '../../lib/layer-kinds';

/** 3x3 and 1x1 always get the same two contrasting colours. */
const KIND_COLOUR: Record<LayerKind, (palette: ChartPalette) => string> = {
  '3x3 conv': (palette) => seriesColour(palette, 1),
  '1x1 conv': (palette) => seriesColour(palette, 0),
  'other conv': (palette) => seriesColour(palette, 4),
  other: (palette) => palette.axis,
};

/** Params and FLOPs of every layer, 1x1 and 3x3 convolutions in different colours, and totals per kind. */
export function LayerCharts({
  layers,
  totals,
}: {
  layers: readonly LayerAnalysis[];
  totals: { params: number; flops: number };
}) {
  const charts = useMemo(
    () =>
      (['params', 'flops'] as const).map((measure) => {
        const bars = layerBars(layers, measure);
        return {
          measure,
          x: bars.x,
          bars: bars.kinds.map((kind, index) => ({
            name: kind,
            values: bars.values[index] ?? [],
            colour: KIND_COLOUR[kind],
          })),
        };
      }),
    [layers],
  );
  const byKind = useMemo(() => totalsByKind(layers), [layers]);
  const unknownKernels = layers.some(
    (layer) => layer.type === 'convolutional' && layer.kernelSize === undefined,
  );
  return (
    <section className="card wide" aria-labelledby="layers-title">
      <h2 id="layers-title">Per-layer analysis</h2>
      {charts.map((chart) => (
        <div key={chart.measure}>
          <h3>{chart.measure === 'params' ? 'Parameters per layer' : 'FLOPs per layer'}</h3>
          <BarChart
            x={chart.x}
            bars={chart.bars}
            xLabel="layer"
            yLabel={chart.measure === 'params' ? 'params' : 'FLOPs'}
            formatY={formatCompact}
            height={200}
            testId={`layer-${chart.measure}-chart`}
            label={`${chart.measure} per layer, by kernel size`}
          />
        </div>
      ))}
      <table className="simple" data-testid="layer-kinds">
        <thead>
          <tr>
            <th>layers</th>
            <th className="num">count</th>
            <th className="num">params</th>
            <th className="num">share</th>
            <th className="num">FLOPs</th>
            <th className="num">share</th>
          </tr>
        </thead>
        <tbody>
          {byKind.map((row) => (
            <tr key={row.kind}>
              <td>{row.kind}</td>
              <td className="num">{row.layers}</td>
              <td className="num">{formatCompact(row.params)}</td>
              <td className="num">
                {totals.params === 0 ? '–' : `${((100 * row.params) / totals.params).toFixed(1)} %`}
              </td>
              <td className="num">{formatCompact(row.flops)}</td>
              <td className="num">
                {totals.flops === 0 ? '–' : `${((100 * row.flops) / totals.flops).toFixed(1)} %`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {unknownKernels && (
        <p className="muted small">
          This version was analysed before kernel sizes were recorded; its convolutions show as &quot;other
          conv&quot;.
        </p>
      )}
    </section>
  );
}
