import { useMemo } from 'react';
import { useEventCountsByLabel } from '../../api/events';
import type { EventStreamFilter } from '../../api/event-stream';
import type { EventAggregates } from '../../api/types';
import { labelColour } from '../../charts/chart-palette';
import { TimeSeriesChart } from '../../charts/TimeSeriesChart';
import { QueryState } from '../../components/QueryState';
import { alignSeries } from '../../lib/aligned-series';
import { KNOWN_LABELS, labelsToShow } from '../../lib/event-feed';
import type { TimeRange } from '../../lib/time-ranges';

type Row = EventAggregates['rows'][number];

/**
 * Events per minute for each expression label over the range: the four known expressions always, and any
 * other label a model reports.
 */
export function EventRateChart({
  range,
  filter = {},
  title = 'Event rate by expression',
  testId = 'event-rate-chart',
}: {
  range: TimeRange;
  filter?: EventStreamFilter;
  title?: string;
  testId?: string;
}) {
  const counts = useEventCountsByLabel(range, filter);
  const chart = useMemo(() => {
    const answer = counts.data;
    if (answer === undefined) return undefined;
    const perMinute = 60 / answer.bucketSeconds;
    const aligned = alignSeries(
      answer.rows,
      {
        time: (row: Row) => row.bucketStart,
        name: (row: Row) => row.keys.label ?? '(no label)',
        value: (row: Row) => row.count * perMinute,
      },
      KNOWN_LABELS,
    );
    const labels = labelsToShow(aligned.names);
    const lines = labels.map((label, index) => {
      const position = aligned.names.indexOf(label);
      return {
        name: label,
        values: position >= 0 ? (aligned.values[position] ?? []) : aligned.x.map(() => null),
        colour: (palette: Parameters<typeof labelColour>[0]) => labelColour(palette, label, index),
      };
    });
    const totals = Object.fromEntries(
      labels.map((label) => [
        label,
        answer.rows.filter((row) => row.keys.label === label).reduce((sum, row) => sum + row.count, 0),
      ]),
    );
    return { x: aligned.x, lines, totals, bucketSeconds: answer.bucketSeconds };
  }, [counts.data]);

  return (
    <section className="card wide" aria-labelledby={`${testId}-title`}>
      <h2 id={`${testId}-title`}>{title}</h2>
      <QueryState isPending={counts.isPending} error={counts.error} what="event counts">
        {chart === undefined || chart.x.length === 0 ? (
          <p className="muted">No events in this time range yet.</p>
        ) : (
          <>
            <TimeSeriesChart x={chart.x} lines={chart.lines} unit="/min" testId={testId} label={title} />
            <ul className="legend-totals" data-testid={`${testId}-totals`}>
              {Object.entries(chart.totals).map(([label, total]) => (
                <li key={label}>
                  {label}: <strong>{total}</strong>
                </li>
              ))}
            </ul>
          </>
        )}
      </QueryState>
    </section>
  );
}
