import { useMemo } from 'react';
import { useDeviceSeries } from '../../api/telemetry';
import type { DevicePoint } from '../../api/types';
import { TimeSeriesChart, type TimeSeriesLine } from '../../charts/TimeSeriesChart';
import { QueryState } from '../../components/QueryState';
import type { TimeRange } from '../../lib/time-ranges';

type Measure = Exclude<keyof DevicePoint, 'bucketStart' | 'samples'>;

interface Panel {
  id: string;
  title: string;
  unit: string;
  lines: ReadonlyArray<{ name: string; measure: Measure; dashed?: boolean; scale?: number }>;
}

const PANELS: readonly Panel[] = [
  {
    id: 'fps',
    title: 'FPS',
    unit: 'FPS',
    lines: [
      { name: 'mean', measure: 'fpsMean' },
      { name: 'min', measure: 'fpsMin', dashed: true },
    ],
  },
  {
    id: 'latency',
    title: 'Inference latency',
    unit: 'ms',
    lines: [
      { name: 'p50', measure: 'latencyP50Ms' },
      { name: 'p95', measure: 'latencyP95Ms' },
      { name: 'p99', measure: 'latencyP99Ms', dashed: true },
    ],
  },
  {
    id: 'temperature',
    title: 'Temperature (hottest zone)',
    unit: '°C',
    lines: [{ name: 'max', measure: 'maxTemperatureC' }],
  },
  { id: 'cpu', title: 'CPU', unit: '%', lines: [{ name: 'process CPU', measure: 'cpuPercent' }] },
  {
    id: 'accuracy',
    title: 'Accuracy (eval set)',
    unit: '%',
    lines: [{ name: 'accuracy', measure: 'accuracy', scale: 100 }],
  },
];

/** A device's time series: FPS, latency percentiles, temperature, CPU, accuracy. */
export function DeviceCharts({ deviceId, range }: { deviceId: string; range: TimeRange }) {
  const series = useDeviceSeries(deviceId, range);
  const charts = useMemo(() => {
    const points = series.data?.points ?? [];
    const x = points.map((point) => Date.parse(point.bucketStart) / 1000);
    return PANELS.map((panel) => ({
      panel,
      lines: panel.lines.map<TimeSeriesLine>((line) => ({
        name: line.name,
        dashed: line.dashed,
        values: points.map((point) => {
          const value = point[line.measure];
          return value === null ? null : value * (line.scale ?? 1);
        }),
      })),
      hasData: points.some((point) => panel.lines.some((line) => point[line.measure] !== null)),
      x,
    }));
  }, [series.data]);

  return (
    <QueryState isPending={series.isPending} error={series.error} what="telemetry">
      {charts[0]?.x.length === 0 ? (
        <p className="muted">No telemetry from this device in the time range.</p>
      ) : (
        <div className="grid">
          {charts.map(({ panel, lines, hasData, x }) => (
            <section key={panel.id} className="card" aria-labelledby={`device-${panel.id}-title`}>
              <h3 id={`device-${panel.id}-title`}>{panel.title}</h3>
              {hasData ? (
                <TimeSeriesChart
                  x={x}
                  lines={lines}
                  unit={panel.unit}
                  height={180}
                  testId={`device-${panel.id}-chart`}
                  label={panel.title}
                />
              ) : (
                <p className="muted">Not reported.</p>
              )}
            </section>
          ))}
        </div>
      )}
    </QueryState>
  );
}
