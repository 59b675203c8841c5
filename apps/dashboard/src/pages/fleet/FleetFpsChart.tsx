import { useMemo, useState } from 'react';
import { useFleetSeries } from '../../api/telemetry';
import type { FleetPoint } from '../../api/types';
import { TimeSeriesChart, type TimeSeriesLine } from '../../charts/TimeSeriesChart';
import { QueryState } from '../../components/QueryState';
import { alignSeries } from '../../lib/aligned-series';
import type { TimeRange } from '../../lib/time-ranges';

const NO_GROUP = '(none)';

/** Fleet FPS over time: mean, median and 10th percentile, or the mean per model or per tag value. */
export function FleetFpsChart({ range, tagKeys }: { range: TimeRange; tagKeys: readonly string[] }) {
  const [groupBy, setGroupBy] = useState('');
  const series = useFleetSeries(range, groupBy === '' ? undefined : groupBy);
  const chart = useMemo(() => {
    const points = series.data?.points ?? [];
    if (groupBy === '') {
      const byTime = alignSeries(points, measureRows('fpsMean'));
      const read = (measure: 'fpsMean' | 'fpsP50' | 'fpsP10') =>
        alignSeries(points, measureRows(measure)).values[0] ?? [];
      const lines: TimeSeriesLine[] = [
        { name: 'mean', values: read('fpsMean') },
        { name: 'median', values: read('fpsP50') },
        { name: '10th percentile', values: read('fpsP10'), dashed: true },
      ];
      return { x: byTime.x, lines };
    }
    const grouped = alignSeries(points, {
      time: (point: FleetPoint) => point.bucketStart,
      name: (point: FleetPoint) => point.group ?? NO_GROUP,
      value: (point: FleetPoint) => point.fpsMean,
    });
    return {
      x: grouped.x,
      lines: grouped.names.map((name, index) => ({
        name: `${name} (mean)`,
        values: grouped.values[index] ?? [],
      })),
    };
  }, [series.data, groupBy]);

  return (
    <section className="card wide" aria-labelledby="fleet-fps-title">
      <div className="card-head">
        <h2 id="fleet-fps-title">Fleet FPS over time</h2>
        <label className="inline-field">
          <span>by</span>
          <select
            value={groupBy}
            onChange={(event) => setGroupBy(event.target.value)}
            data-testid="fleet-fps-group"
          >
            <option value="">whole fleet</option>
            <option value="model">model</option>
            {tagKeys.map((key) => (
              <option key={key} value={`tag:${key}`}>
                tag {key}
              </option>
            ))}
          </select>
        </label>
      </div>
      <QueryState isPending={series.isPending} error={series.error} what="fleet FPS">
        {chart.x.length === 0 ? (
          <p className="muted">No telemetry in this time range yet.</p>
        ) : (
          <TimeSeriesChart
            x={chart.x}
            lines={chart.lines}
            unit="FPS"
            testId="fleet-fps-chart"
            label="Fleet FPS over time"
          />
        )}
      </QueryState>
      {series.data && (
        <p className="muted small">
          {series.data.bucketSeconds} s buckets from{' '}
          {series.data.source === 'raw' ? 'raw samples' : `${series.data.source} roll-ups`}; each
          device&apos;s mean first, then across devices.
        </p>
      )}
    </section>
  );
}

function measureRows(measure: 'fpsMean' | 'fpsP50' | 'fpsP10') {
  return {
    time: (point: FleetPoint) => point.bucketStart,
    name: () => measure,
    value: (point: FleetPoint) => point[measure],
  };
}
