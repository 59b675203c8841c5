import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { type TelemetryMessage } from '@emofleet/protocol';
import { type AppConfig, type TelemetrySettings } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TelemetryIngestCounters } from './telemetry-ingest-counters';
import { type ReceivedTelemetry, TelemetryRepository } from './telemetry.repository';
import { describeDatabaseError } from '../database/describe-database-error';

/**
 * Collects received telemetry and writes it in batches: when `flushMaxRows` samples are waiting, or
 * `flushIntervalMs` after the first one arrived. One flush runs at a time; samples arriving meanwhile wait for
 * the next. Telemetry is best effort (QoS 0): a flush the database refuses is counted and dropped.
 */
@Injectable()
export class TelemetryBuffer implements OnApplicationShutdown {
  private readonly logger = new Logger(TelemetryBuffer.name);
  private readonly settings: TelemetrySettings;
  private pending: ReceivedTelemetry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly repository: TelemetryRepository,
    private readonly counters: TelemetryIngestCounters,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.settings = config.telemetry;
  }

  add(message: TelemetryMessage, receivedAt: Date): void {
    this.counters.samplesReceived++;
    this.pending.push({ message, receivedAt });
    if (this.pending.length >= this.settings.flushMaxRows) this.startFlush();
    else this.timer ??= setTimeout(() => this.startFlush(), this.settings.flushIntervalMs);
  }

  /** Writes everything received so far; resolves when it is stored (or dropped after a database error). */
  async flush(): Promise<void> {
    while (this.flushing || this.pending.length > 0) {
      if (this.flushing) await this.flushing;
      else this.startFlush();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private startFlush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.settings.flushMaxRows);
    this.flushing = this.write(batch).finally(() => {
      this.flushing = undefined;
      if (this.pending.length >= this.settings.flushMaxRows) this.startFlush();
      else if (this.pending.length > 0)
        this.timer ??= setTimeout(() => this.startFlush(), this.settings.flushIntervalMs);
    });
  }

  private async write(batch: ReceivedTelemetry[]): Promise<void> {
    try {
      this.counters.samplesStored += await this.repository.insertSamples(batch);
    } catch (error) {
      this.counters.samplesDropped += batch.length;
      this.logger.error(`dropped ${batch.length} telemetry samples: ${describeDatabaseError(error)}`);
      return;
    }
    this.counters.flushes++;
    const newestWindowEnd = Math.max(...batch.map((s) => s.message.windowStart + s.message.windowMs));
    this.counters.lastIngestLagMs = Math.max(0, Date.now() - newestWindowEnd);
    try {
      await this.repository.updateLatestSnapshots(newestPerDevice(batch));
    } catch (error) {
      // The samples are stored; only the devices' latest snapshot lags until their next window.
      this.logger.warn(
        `stored ${batch.length} telemetry samples but not the devices' latest snapshots: ${describeDatabaseError(error)}`,
      );
    }
  }
}

function newestPerDevice(batch: readonly ReceivedTelemetry[]): ReceivedTelemetry[] {
  const newest = new Map<string, ReceivedTelemetry>();
  for (const sample of batch) {
    const seen = newest.get(sample.message.deviceId);
    if (!seen || seen.message.windowStart <= sample.message.windowStart)
      newest.set(sample.message.deviceId, sample);
  }
  return [...newest.values()];
}
