import { type BenchMachine } from '../support/bench-machine';
import { type EventStorageCheck, type TelemetryStorageCheck } from '../support/bench-database';
import { type QueryBenchmarkResult } from './event-query-benchmark';
import { type IngestBenchOptions } from './ingest-bench-options';
import { type LatencySummary } from '../support/latency-summary';

export interface IngestRate {
  /** Per second, what the options ask for (devices × 1 Hz, devices × event rate). */
  nominal: number | undefined;
  /** Per second, from the simulated agents' counters (undefined where the agents have no counter). */
  offered: number | undefined;
  /** Per second, from the control plane's `/metrics` counters. */
  stored: number;
}

/** Everything one run measured and checked. */
export interface IngestBenchResult {
  options: IngestBenchOptions;
  machine: BenchMachine;
  fleetStartupSeconds: number;
  measuredSeconds: number;
  rates: {
    telemetryWindows: IngestRate;
    events: IngestRate;
    eventBatches: IngestRate;
    acksPublished: IngestRate;
    /** Events received again (re-sent by devices whose acknowledgement stalled). */
    duplicateEvents: IngestRate;
    /** PostgreSQL transactions committed per second in the run's database (pg_stat_database). */
    databaseCommits: IngestRate;
  };
  /** Percent of one core during the measurement. */
  cpuPercent: { controlPlane: number; simulator: number; postgres: number; mosquitto: number };
  /** Cores busy on the whole machine during the measurement (every process, other users' too). */
  machineCoresBusy: number;
  /** The simulator process's resident memory at the end of the window. */
  simulatorRssBytes: number;
  /** The simulator's event-loop delay during the measurement: large values mean it could not offer the load. */
  simulatorEventLoopDelayMs: { p99: number; max: number };
  latency: {
    pollIntervalMs: number;
    sampleDevices: number;
    events: LatencySummary;
    eventsFromExpressionEnd: LatencySummary;
    telemetry: LatencySummary;
    eventsNeverQueryable: number;
    telemetryNeverShown: number;
    telemetryReplacedBeforeShown: number;
    /** API requests per second the latency polling made (its own load on the control plane). */
    pollRequestsPerSecond: number;
  };
  /** Events created and not yet acknowledged, over the fleet, when the window started and ended. */
  unacknowledgedEvents: { atStart: number; atEnd: number };
  /** Seconds after the measurement until every event created in it was acknowledged (undefined: timed out). */
  drainSeconds: number | undefined;
  agentWarnings: number;
  /** Warnings and errors the control plane logged during the run, with the first few. */
  controlPlaneProblems: { count: number; first: string[] };
  eventStorage: EventStorageCheck;
  telemetryStorage: TelemetryStorageCheck;
  queries: {
    beforeFill: QueryBenchmarkResult;
    afterFill: QueryBenchmarkResult | undefined;
    rowsFilled: number;
    fillSeconds: number;
  };
  /** Empty when nothing was lost or duplicated. */
  problems: string[];
}

/** What went wrong with delivery, one sentence each; empty when every event and window is stored once. */
export function deliveryProblems(
  events: EventStorageCheck,
  telemetry: TelemetryStorageCheck,
  drainSeconds: number | undefined,
): string[] {
  const problems: string[] = [];
  if (events.expected === 0) problems.push('no events were created: nothing to check (run longer)');
  if (telemetry.published === 0) problems.push('no telemetry was published: nothing to check');
  if (events.lostAfterAcknowledgement > 0)
    problems.push(
      `${events.lostAfterAcknowledgement} events acknowledged to their devices but not stored: lost`,
    );
  if (events.undelivered > 0)
    problems.push(
      `${events.undelivered} events not stored by the end of the drain: still in the devices' spools, so ` +
        'neither lost nor confirmed (the control plane fell behind)',
    );
  if (events.duplicateRows > 0) problems.push(`${events.duplicateRows} duplicate event rows`);
  if (events.unexpectedRows > 0) problems.push(`${events.unexpectedRows} event rows no device created`);
  if (events.declaredLost > 0) problems.push(`${events.declaredLost} events declared lost by devices`);
  if (drainSeconds === undefined) problems.push('events still unacknowledged at the drain time-out');
  if (telemetry.stored !== telemetry.published || telemetry.devicesDiffering > 0)
    problems.push(
      `telemetry: ${telemetry.published} windows published, ${telemetry.stored} stored ` +
        `(${telemetry.devicesDiffering} devices differ)`,
    );
  return problems;
}
