import { Inject, Injectable } from '@nestjs/common';
import { type AppConfig, type TelemetrySettings } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ROLLUP_LOOKBACK_MS } from './telemetry-maintenance';
import { TelemetryRollupsRepository } from './telemetry-rollups.repository';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Roll-ups and retention of telemetry, run by the worker's repeatable jobs. */
@Injectable()
export class TelemetryMaintenanceService {
  private readonly settings: TelemetrySettings;

  constructor(
    private readonly rollups: TelemetryRollupsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.settings = config.telemetry;
  }

  /** Recomputes the roll-ups of the last few minutes and of the current and previous hour. */
  async rollUp(now: Date = new Date()): Promise<void> {
    await this.rollups.rollUpMinutes(new Date(now.getTime() - ROLLUP_LOOKBACK_MS));
    await this.rollups.rollUpHours(new Date(now.getTime() - HOUR_MS));
  }

  async applyRetention(now: Date = new Date()): Promise<void> {
    const at = now.getTime();
    await this.rollups.deleteOlderThan({
      rawBefore: new Date(at - this.settings.rawRetentionHours * HOUR_MS),
      minuteBefore: new Date(at - this.settings.rollup1mRetentionDays * DAY_MS),
      hourBefore: new Date(at - this.settings.rollup1hRetentionDays * DAY_MS),
    });
  }
}
