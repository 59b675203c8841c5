import { Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { telemetryRollups, telemetrySamples } from '../database/schema';

/**
 * Computes the roll-ups from the samples (1 minute) and from the 1-minute roll-ups (1 hour), and deletes expired
 * rows; each under the maintenance statement limit (`DatabaseAdapter.maintenance`).
 */
@Injectable()
export class TelemetryRollupsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /**
   * Recomputes the 1-minute roll-ups of every minute from `since` (truncated to the minute) on. Idempotent:
   * buckets are replaced, so re-running after late samples arrive folds them in.
   */
  async rollUpMinutes(since: Date): Promise<void> {
    await this.database.maintenance((db) =>
      db.execute(sql`
      insert into ${telemetryRollups} (resolution, device_id, bucket_start, samples, fps_mean, fps_min,
        latency_p50_ms, latency_p95_ms, latency_p99_ms, cpu_percent, max_temperature_c, accuracy, model_id)
      select '1m', device_id, date_trunc('minute', window_start), count(*), avg(fps), min(fps),
        avg(latency_p50_ms), avg(latency_p95_ms), max(latency_p99_ms), avg(cpu_percent), max(max_temperature_c),
        avg(accuracy), mode() within group (order by model_id)
      from ${telemetrySamples}
      where window_start >= date_trunc('minute', ${since.toISOString()}::timestamptz)
      group by device_id, date_trunc('minute', window_start)
      ${upsertRollup}`),
    );
  }

  /** Recomputes the 1-hour roll-ups of every hour from `since` (truncated to the hour) from the 1-minute ones. */
  async rollUpHours(since: Date): Promise<void> {
    await this.database.maintenance((db) =>
      db.execute(sql`
      insert into ${telemetryRollups} (resolution, device_id, bucket_start, samples, fps_mean, fps_min,
        latency_p50_ms, latency_p95_ms, latency_p99_ms, cpu_percent, max_temperature_c, accuracy, model_id)
      select '1h', device_id, date_trunc('hour', bucket_start), sum(samples),
        sum(fps_mean * samples) / sum(samples), min(fps_min),
        sum(latency_p50_ms * samples) / nullif(sum(samples) filter (where latency_p50_ms is not null), 0),
        sum(latency_p95_ms * samples) / nullif(sum(samples) filter (where latency_p95_ms is not null), 0),
        max(latency_p99_ms), sum(cpu_percent * samples) / sum(samples), max(max_temperature_c), avg(accuracy),
        mode() within group (order by model_id)
      from ${telemetryRollups}
      where resolution = '1m' and bucket_start >= date_trunc('hour', ${since.toISOString()}::timestamptz)
      group by device_id, date_trunc('hour', bucket_start)
      ${upsertRollup}`),
    );
  }

  /** Deletes samples before `rawBefore` and the roll-ups of each resolution before its limit. */
  async deleteOlderThan(limits: { rawBefore: Date; minuteBefore: Date; hourBefore: Date }): Promise<void> {
    await this.database.maintenance(async (db) => {
      await db
        .delete(telemetrySamples)
        .where(sql`${telemetrySamples.windowStart} < ${limits.rawBefore.toISOString()}::timestamptz`);
      await db.delete(telemetryRollups).where(
        sql`(${telemetryRollups.resolution} = '1m' and ${telemetryRollups.bucketStart} < ${limits.minuteBefore.toISOString()}::timestamptz)
          or (${telemetryRollups.resolution} = '1h' and ${telemetryRollups.bucketStart} < ${limits.hourBefore.toISOString()}::timestamptz)`,
      );
    });
  }
}

const upsertRollup = sql`
  on conflict (resolution, device_id, bucket_start) do update set samples = excluded.samples,
    fps_mean = excluded.fps_mean, fps_min = excluded.fps_min, latency_p50_ms = excluded.latency_p50_ms,
    latency_p95_ms = excluded.latency_p95_ms, latency_p99_ms = excluded.latency_p99_ms,
    cpu_percent = excluded.cpu_percent, max_temperature_c = excluded.max_temperature_c,
    accuracy = excluded.accuracy, model_id = excluded.model_id`;
