import { type TelemetryRollupResolution } from '../database/schema';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Most buckets one series request may span. */
export const MAX_BUCKETS = 5000;

/** Parses `30s`, `1m`, `15m`, `1h`, `1d` into seconds; undefined when malformed. */
export function parseBucketSeconds(bucket: string): number | undefined {
  const match = /^([1-9]\d{0,4})([smhd])$/.exec(bucket);
  if (!match?.[1] || !match[2]) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

/**
 * Where a series with this bucket width is read from: the raw samples below one minute, the 1-minute roll-ups
 * for buckets that are whole minutes, the 1-hour roll-ups for whole hours.
 */
export function telemetrySourceFor(bucketSeconds: number): 'raw' | TelemetryRollupResolution {
  if (bucketSeconds % 3600 === 0) return '1h';
  if (bucketSeconds % 60 === 0) return '1m';
  return 'raw';
}
