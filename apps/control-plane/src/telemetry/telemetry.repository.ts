import { Injectable } from '@nestjs/common';
import { type TelemetryMessage } from '@emofleet/protocol';
import { sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { devices, telemetrySamples } from '../database/schema';

/** A decoded telemetry message and when this replica received it. */
export interface ReceivedTelemetry {
  message: TelemetryMessage;
  receivedAt: Date;
}

/** Writes telemetry: the time series (one multi-row insert per flush) and each device's latest snapshot. */
@Injectable()
export class TelemetryRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Inserts the samples (a window received twice is kept once); returns how many were new. */
  async insertSamples(samples: readonly ReceivedTelemetry[]): Promise<number> {
    if (samples.length === 0) return 0;
    const rows = await this.database.db
      .insert(telemetrySamples)
      .values(samples.map(toSampleRow))
      .onConflictDoNothing()
      .returning({ deviceId: telemetrySamples.deviceId });
    return rows.length;
  }

  /**
   * Sets each device's latest telemetry (the message without `v` and `deviceId`) in one statement; `latest`
   * holds at most one entry per device. Decommissioned and unknown devices are left alone.
   */
  async updateLatestSnapshots(latest: readonly ReceivedTelemetry[]): Promise<void> {
    if (latest.length === 0) return;
    const values = sql.join(
      latest.map(({ message, receivedAt }) => {
        const { v: _version, deviceId, ...snapshot } = message;
        return sql`(${deviceId}, ${JSON.stringify(snapshot)}::jsonb, ${receivedAt.toISOString()}::timestamptz)`;
      }),
      sql`, `,
    );
    await this.database.db.execute(sql`
      update ${devices} set last_telemetry = latest.snapshot, last_telemetry_at = latest.received_at,
        last_seen_at = greatest(${devices.lastSeenAt}, latest.received_at)
      from (values ${values}) as latest(device_id, snapshot, received_at)
      where ${devices.id} = latest.device_id and ${devices.decommissionedAt} is null
        and (${devices.lastTelemetryAt} is null or ${devices.lastTelemetryAt} <= latest.received_at)`);
  }
}

function toSampleRow({ message, receivedAt }: ReceivedTelemetry): typeof telemetrySamples.$inferInsert {
  const temperatures = Object.values(message.temperaturesC);
  return {
    deviceId: message.deviceId,
    windowStart: new Date(message.windowStart),
    windowMs: message.windowMs,
    receivedAt,
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
