/** The worker's queue for telemetry roll-ups and retention, and its repeatable jobs. */
export const TELEMETRY_MAINTENANCE_QUEUE = 'telemetry-maintenance';

export enum TelemetryMaintenanceJob {
  /** Every minute: recompute the recent 1-minute and 1-hour roll-ups. */
  RollUp = 'roll-up',
  /** Every hour: delete samples and roll-ups past their retention. */
  Retention = 'retention',
}

export const TELEMETRY_MAINTENANCE_SCHEDULE: Record<TelemetryMaintenanceJob, number> = {
  [TelemetryMaintenanceJob.RollUp]: 60_000,
  [TelemetryMaintenanceJob.Retention]: 3_600_000,
};

/** How far back each roll-up pass recomputes, so samples that arrive late (up to this) are folded in. */
export const ROLLUP_LOOKBACK_MS = 3 * 60_000;
