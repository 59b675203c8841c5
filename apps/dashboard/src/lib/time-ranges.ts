/** The time windows the charts offer, each with a bucket width the telemetry and event APIs accept. */
export interface TimeRange {
  id: string;
  label: string;
  seconds: number;
  /** Below a minute: raw samples (fresh); whole minutes and hours: the roll-ups. */
  bucket: string;
}

export const TIME_RANGES: readonly TimeRange[] = [
  { id: '15m', label: '15 min', seconds: 15 * 60, bucket: '10s' },
  { id: '1h', label: '1 h', seconds: 3600, bucket: '30s' },
  { id: '6h', label: '6 h', seconds: 6 * 3600, bucket: '5m' },
  { id: '24h', label: '24 h', seconds: 24 * 3600, bucket: '15m' },
  { id: '7d', label: '7 d', seconds: 7 * 24 * 3600, bucket: '1h' },
];

export const DEFAULT_TIME_RANGE: TimeRange = TIME_RANGES[0] as TimeRange;

export function timeRangeById(id: string): TimeRange {
  return TIME_RANGES.find((range) => range.id === id) ?? DEFAULT_TIME_RANGE;
}

/** `from`/`to` query values for the range ending now. */
export function rangeQuery(range: TimeRange, now: number): { from: string; to: string; bucket: string } {
  return {
    from: new Date(now - range.seconds * 1000).toISOString(),
    to: new Date(now).toISOString(),
    bucket: range.bucket,
  };
}
