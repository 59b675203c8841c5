import { Injectable } from '@nestjs/common';
import { sql, type SQL } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import {
  devices,
  telemetryRollups,
  telemetrySamples,
  type TelemetryRollupResolution,
} from '../database/schema';
import { rowsOf } from '../database/rows-of';

export interface SeriesWindow {
  from: Date;
  to: Date;
  bucketSeconds: number;
  source: 'raw' | TelemetryRollupResolution;
}

export type FleetGrouping = { by: 'tag'; key: string } | { by: 'model' } | { by: 'none' };

export interface FleetPoint {
  bucketStart: Date;
  group: string | null;
  devices: number;
  fpsMean: number;
  fpsP50: number;
  fpsP10: number;
}

export interface DevicePoint {
  bucketStart: Date;
  samples: number;
  fpsMean: number;
  fpsMin: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  accuracy: number | null;
  cpuPercent: number;
  maxTemperatureC: number | null;
}

const toNumber = (value: string | number | null): number | null => (value === null ? null : Number(value));

/**
 * Telemetry series over raw samples or roll-ups, bucketed with `date_bin`. Both sources are read through one
 * shape (`weight` = samples behind a row) so means are sample-weighted whatever the resolution.
 */
@Injectable()
export class TelemetryQueryRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Per bucket and group: the mean FPS of each device, then mean, median and 10th percentile over devices. */
  async fleetSeries(window: SeriesWindow, grouping: FleetGrouping): Promise<FleetPoint[]> {
    const group: SQL =
      grouping.by === 'tag'
        ? sql`${devices.tags} ->> ${grouping.key}`
        : grouping.by === 'model'
          ? sql`source.model_id`
          : sql`null::text`;
    const rows = rowsOf<{
      bucket_start: string | Date;
      grp: string | null;
      devices: string;
      fps_mean: number;
      fps_p50: number;
      fps_p10: number;
    }>(
      await this.database.db.execute(sql`
        with per_device as (
          select ${bucketExpression(window)} as bucket_start, source.device_id, ${group} as grp,
            sum(source.fps * source.weight) / sum(source.weight) as fps
          from ${sourceRows(window)} as source
          left join ${devices} on ${devices.id} = source.device_id
          group by 1, 2, 3
        )
        select bucket_start, grp, count(*)::int8 as devices, avg(fps) as fps_mean,
          percentile_cont(0.5) within group (order by fps) as fps_p50,
          percentile_cont(0.1) within group (order by fps) as fps_p10
        from per_device group by 1, 2 order by 1, 2 nulls last`),
    );
    return rows.map((row) => ({
      bucketStart: new Date(row.bucket_start),
      group: row.grp,
      devices: Number(row.devices),
      fpsMean: Number(row.fps_mean),
      fpsP50: Number(row.fps_p50),
      fpsP10: Number(row.fps_p10),
    }));
  }

  /** Devices in service by the model they reported running, with how many of them are online. */
  async modelPresence(): Promise<ModelPresence[]> {
    const rows = rowsOf<{ model_id: string | null; version: string | null; devices: string; online: string }>(
      await this.database.db.execute(sql`
        select ${devices.currentModel} ->> 'modelId' as model_id, ${devices.currentModel} ->> 'version' as version,
          count(*)::int8 as devices, count(*) filter (where ${devices.online})::int8 as online
        from ${devices} where ${devices.decommissionedAt} is null
        group by 1, 2 order by 1 nulls last, 2`),
    );
    return rows.map((row) => ({
      modelId: row.model_id,
      version: row.version,
      devices: Number(row.devices),
      online: Number(row.online),
    }));
  }

  /**
   * One device's series. Latency percentiles are the sample-weighted means of the windows' percentiles (p99 the
   * worst window's), an approximation: exact percentiles would need every frame's latency.
   */
  async deviceSeries(deviceId: string, window: SeriesWindow): Promise<DevicePoint[]> {
    const rows = rowsOf<Record<string, string | number | Date | null>>(
      await this.database.db.execute(sql`
        select ${bucketExpression(window)} as bucket_start, sum(source.weight)::int8 as samples,
          sum(source.fps * source.weight) / sum(source.weight) as fps_mean, min(source.fps_min) as fps_min,
          sum(source.latency_p50_ms * source.weight) / nullif(sum(source.weight) filter (where source.latency_p50_ms is not null), 0) as latency_p50_ms,
          sum(source.latency_p95_ms * source.weight) / nullif(sum(source.weight) filter (where source.latency_p95_ms is not null), 0) as latency_p95_ms,
          max(source.latency_p99_ms) as latency_p99_ms,
          avg(source.accuracy) as accuracy,
          sum(source.cpu_percent * source.weight) / sum(source.weight) as cpu_percent,
          max(source.max_temperature_c) as max_temperature_c
        from ${sourceRows(window)} as source
        where source.device_id = ${deviceId}
        group by 1 order by 1`),
    );
    return rows.map((row) => ({
      bucketStart: new Date(row.bucket_start as string | Date),
      samples: Number(row.samples),
      fpsMean: Number(row.fps_mean),
      fpsMin: Number(row.fps_min),
      latencyP50Ms: toNumber(row.latency_p50_ms as string | null),
      latencyP95Ms: toNumber(row.latency_p95_ms as string | null),
      latencyP99Ms: toNumber(row.latency_p99_ms as string | null),
      accuracy: toNumber(row.accuracy as string | null),
      cpuPercent: Number(row.cpu_percent),
      maxTemperatureC: toNumber(row.max_temperature_c as string | null),
    }));
  }
}

export interface ModelPresence {
  modelId: string | null;
  version: string | null;
  devices: number;
  online: number;
}

function bucketExpression(window: SeriesWindow): SQL {
  return sql`date_bin(${window.bucketSeconds} * interval '1 second', source.at, timestamptz '1970-01-01T00:00:00Z')`;
}

/** The rows of `window` in one shape, from the raw samples or a roll-up resolution. */
function sourceRows(window: SeriesWindow): SQL {
  const from = window.from.toISOString();
  const to = window.to.toISOString();
  if (window.source === 'raw') {
    return sql`(select device_id, window_start as at, 1 as weight, fps, fps as fps_min, latency_p50_ms,
        latency_p95_ms, latency_p99_ms, accuracy, cpu_percent, max_temperature_c, model_id
      from ${telemetrySamples}
      where window_start >= ${from}::timestamptz and window_start < ${to}::timestamptz)`;
  }
  return sql`(select device_id, bucket_start as at, samples as weight, fps_mean as fps, fps_min, latency_p50_ms,
      latency_p95_ms, latency_p99_ms, accuracy, cpu_percent, max_temperature_c, model_id
    from ${telemetryRollups}
    where resolution = ${window.source} and bucket_start >= ${from}::timestamptz
      and bucket_start < ${to}::timestamptz)`;
}
