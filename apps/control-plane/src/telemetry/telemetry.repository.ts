import { Injectable } from '@nestjs/common';
import { type TelemetryMessage } from '@emofleet/protocol';
import { sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { devices, telemetrySamples } from '../database/schema';
import { rowsOf } from '../database/rows-of';
import { lockDeviceRowsInOrder } from '../devices/device-row-locks';

/** A decoded telemetry message and when this replica received it. */
export interface ReceivedTelemetry {
  message: TelemetryMessage;
  receivedAt: Date;
}

/**
 * Writes telemetry: the time series (one insert per flush) and each device's latest snapshot. Both statements
 * take the flush as one array parameter per column (`unnest`), so their cost does not grow with a query text of
 * one placeholder per value: building a 2,000-row multi-row VALUES insert with the query builder blocked the
 * event loop for hundreds of milliseconds per flush.
 */
@Injectable()
export class TelemetryRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Inserts the samples (a window received twice is kept once); returns how many were new. */
  async insertSamples(samples: readonly ReceivedTelemetry[]): Promise<number> {
    if (samples.length === 0) return 0;
    const rows = samples.map(toSampleRow);
    const columns = SAMPLE_COLUMNS.map(([column, type]) => ({
      name: sql.identifier(telemetrySamples[column].name),
      values: sql`${sql.param(rows.map((row) => row[column]))}::${sql.raw(type)}[]`,
    }));
    const [inserted] = rowsOf<{ count: string }>(
      await this.database.db.execute(sql`
        with inserted as (
          insert into ${telemetrySamples} (${sql.join(
            columns.map((column) => column.name),
            sql`, `,
          )})
          select * from unnest(${sql.join(
            columns.map((column) => column.values),
            sql`, `,
          )})
          on conflict do nothing
          returning 1)
        select count(*)::int8 as count from inserted`),
    );
    return Number(inserted?.count ?? 0);
  }

  /**
   * Sets each device's latest telemetry (the message without `v` and `deviceId`) in one statement; `latest`
   * holds at most one entry per device. Decommissioned and unknown devices are left alone.
   */
  async updateLatestSnapshots(latest: readonly ReceivedTelemetry[]): Promise<void> {
    if (latest.length === 0) return;
    const deviceIds = latest.map(({ message }) => message.deviceId);
    const snapshots = latest.map(({ message }) => {
      const { v: _version, deviceId: _deviceId, ...snapshot } = message;
      return JSON.stringify(snapshot);
    });
    const receivedAts = latest.map(({ receivedAt }) => receivedAt.toISOString());
    await this.database.db.transaction(async (tx) => {
      await lockDeviceRowsInOrder(tx, deviceIds);
      await tx.execute(sql`
      update ${devices} set last_telemetry = latest.snapshot, last_telemetry_at = latest.received_at,
        last_seen_at = greatest(${devices.lastSeenAt}, latest.received_at)
      from unnest(${sql.param(deviceIds)}::text[], ${sql.param(snapshots)}::jsonb[],
        ${sql.param(receivedAts)}::timestamptz[]) as latest(device_id, snapshot, received_at)
      where ${devices.id} = latest.device_id and ${devices.decommissionedAt} is null
        and (${devices.lastTelemetryAt} is null or ${devices.lastTelemetryAt} <= latest.received_at)`);
    });
  }
}

/** One `telemetry_samples` row with the values as the array parameters carry them (times as ISO 8601). */
interface SampleRow {
  deviceId: string;
  windowStart: string;
  windowMs: number;
  receivedAt: string;
  framesProcessed: number;
  framesDropped: number;
  fps: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  cpuPercent: number;
  rssBytes: number;
  maxTemperatureC: number | null;
  gpuLoadPercent: number | null;
  modelId: string | null;
  accuracy: number | null;
  spoolDepth: number;
}

/** Every column the insert writes, with the PostgreSQL type of its array parameter. */
const SAMPLE_COLUMNS: readonly (readonly [keyof SampleRow, string])[] = [
  ['deviceId', 'text'],
  ['windowStart', 'timestamptz'],
  ['windowMs', 'int4'],
  ['receivedAt', 'timestamptz'],
  ['framesProcessed', 'int8'],
  ['framesDropped', 'int8'],
  ['fps', 'float8'],
  ['latencyP50Ms', 'float8'],
  ['latencyP95Ms', 'float8'],
  ['latencyP99Ms', 'float8'],
  ['cpuPercent', 'float8'],
  ['rssBytes', 'int8'],
  ['maxTemperatureC', 'float8'],
  ['gpuLoadPercent', 'float8'],
  ['modelId', 'text'],
  ['accuracy', 'float8'],
  ['spoolDepth', 'int8'],
];

function toSampleRow({ message, receivedAt }: ReceivedTelemetry): SampleRow {
  const temperatures = Object.values(message.temperaturesC);
  return {
    deviceId: message.deviceId,
    windowStart: new Date(message.windowStart).toISOString(),
    windowMs: message.windowMs,
    receivedAt: receivedAt.toISOString(),
    framesProcessed: message.framesProcessed,
    framesDropped: message.framesDropped,
    fps: message.fps,
    latencyP50Ms: message.latencyMs?.p50 ?? null,
    latencyP95Ms: message.latencyMs?.p95 ?? null,
    latencyP99Ms: message.latencyMs?.p99 ?? null,
    cpuPercent: message.cpuPercent,
    rssBytes: message.rssBytes,
    maxTemperatureC: temperatures.length > 0 ? Math.max(...temperatures) : null,
    gpuLoadPercent: message.gpu?.loadPercent ?? null,
    modelId: message.modelId,
    accuracy: message.accuracy,
    spoolDepth: message.spool.depth,
  };
}
