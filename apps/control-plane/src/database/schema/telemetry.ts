import {
  bigint,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/**
 * One telemetry window per row, as devices report it every few seconds. `(device_id, window_start)` is the key:
 * a window received twice is stored once. Kept for TELEMETRY_RAW_RETENTION_HOURS.
 */
export const telemetrySamples = pgTable(
  'telemetry_samples',
  {
    deviceId: text('device_id').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    windowMs: integer('window_ms').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    framesProcessed: bigint('frames_processed', { mode: 'number' }).notNull(),
    framesDropped: bigint('frames_dropped', { mode: 'number' }).notNull(),
    fps: doublePrecision('fps').notNull(),
    latencyP50Ms: doublePrecision('latency_p50_ms'),
    latencyP95Ms: doublePrecision('latency_p95_ms'),
    latencyP99Ms: doublePrecision('latency_p99_ms'),
    cpuPercent: doublePrecision('cpu_percent').notNull(),
    rssBytes: bigint('rss_bytes', { mode: 'number' }).notNull(),
    /** The hottest thermal zone of the window (null when the device reports none). */
    maxTemperatureC: doublePrecision('max_temperature_c'),
    gpuLoadPercent: doublePrecision('gpu_load_percent'),
    modelId: text('model_id'),
    accuracy: doublePrecision('accuracy'),
    spoolDepth: bigint('spool_depth', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.deviceId, table.windowStart] }),
    index('telemetry_samples_window_start_idx').on(table.windowStart),
  ],
);

/** Resolution of a telemetry roll-up. */
export type TelemetryRollupResolution = '1m' | '1h';

/**
 * Per device and bucket (1 minute or 1 hour) aggregates of the samples, for dashboards over long ranges.
 * Recomputed from the samples by the worker's roll-up job (idempotent upserts), so late samples are folded in.
 */
export const telemetryRollups = pgTable(
  'telemetry_rollups',
  {
    resolution: text('resolution').$type<TelemetryRollupResolution>().notNull(),
    deviceId: text('device_id').notNull(),
    bucketStart: timestamp('bucket_start', { withTimezone: true }).notNull(),
    samples: integer('samples').notNull(),
    fpsMean: doublePrecision('fps_mean').notNull(),
    fpsMin: doublePrecision('fps_min').notNull(),
    latencyP50Ms: doublePrecision('latency_p50_ms'),
    latencyP95Ms: doublePrecision('latency_p95_ms'),
    latencyP99Ms: doublePrecision('latency_p99_ms'),
    cpuPercent: doublePrecision('cpu_percent').notNull(),
    maxTemperatureC: doublePrecision('max_temperature_c'),
    accuracy: doublePrecision('accuracy'),
    /** The model most samples of the bucket ran. */
    modelId: text('model_id'),
  },
  (table) => [
    primaryKey({ columns: [table.resolution, table.deviceId, table.bucketStart] }),
    index('telemetry_rollups_bucket_idx').on(table.resolution, table.bucketStart),
  ],
);
