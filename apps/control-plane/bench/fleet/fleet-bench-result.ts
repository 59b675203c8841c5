import { type BenchMachine } from '../support/bench-machine';
import { type LatencySummary } from '../support/latency-summary';
import { type ProfileSummary } from '../support/cpu-profile-summary';
import { type FleetBenchOptions } from './fleet-bench-options';

/** Per second over a stage's measured window. */
export interface StageRate {
  /** What the options ask of the connected devices. */
  nominal: number;
  /** What the simulated agents sent. */
  offered: number;
  /** What the control plane stored (its /metrics counters). */
  stored: number;
}

export interface StageResult {
  targetDevices: number;
  connectedDevices: number;
  /** From starting the stage's new devices until every device of the stage was connected; undefined: never. */
  connectSeconds: number | undefined;
  simulatorProcesses: number;
  measuredSeconds: number;
  telemetryWindows: StageRate;
  events: StageRate;
  eventBatchesStoredPerSecond: number;
  databaseCommitsPerSecond: number;
  latency: {
    events: LatencySummary;
    telemetry: LatencySummary;
    eventsNeverQueryable: number;
    telemetryNeverShown: number;
    /** Polls of the sampler the API answered with an error, and the first one. */
    apiErrors: number;
    firstApiError: string | undefined;
  };
  unacknowledgedEvents: { atStart: number; atEnd: number };
  /** Events of the stage's devices acknowledged by the control plane but not stored. */
  lostAfterAcknowledgement: number;
  duplicateRows: number;
  unexpectedRows: number;
  /** A few of them, with the reason (`BenchDatabase.checkEventStorage`). */
  unexpectedSample: string[];
  /** Events the devices dropped in the stage (spool overflow). */
  declaredLost: number;
  cpuPercent: {
    controlPlane: number;
    postgres: number;
    redis: number;
    mosquitto: number;
    simulators: number;
  };
  machineCoresBusy: number;
  controlPlaneRssBytes: number;
  simulatorRssBytes: number;
  simulatorEventLoopDelayMs: { p99: number; max: number };
  /** Why the stage does not count as sustained (empty: it does). */
  failures: string[];
}

export interface FleetBenchResult {
  options: FleetBenchOptions;
  machine: BenchMachine & { openFilesLimit: string };
  stages: StageResult[];
  /** The highest stage with every device connected, p99 ingest-to-queryable under 2 s and nothing lost. */
  highestSustainedDevices: number | undefined;
  telemetryStorage: { published: number; stored: number; devicesDiffering: number };
  /** Stages that broke off (an error, not a measurement), with the error. */
  stageErrors: string[];
  /** Warning and error lines of the control plane's log. */
  controlPlaneProblems: { count: number; first: string[] };
  agentWarnings: number;
  profile: ProfileSummary | undefined;
}

export const LATENCY_LIMIT_MS = 2000;

/** Why a stage does not meet the bar: every device connected, p99 < 2 s, nothing lost or duplicated. */
export function stageFailures(stage: Omit<StageResult, 'failures'>): string[] {
  const failures: string[] = [];
  if (stage.connectedDevices < stage.targetDevices)
    failures.push(`${stage.connectedDevices} of ${stage.targetDevices} devices connected`);
  if (!(stage.latency.events.p99 < LATENCY_LIMIT_MS))
    failures.push(`events p99 ${Math.round(stage.latency.events.p99)} ms`);
  if (!(stage.latency.telemetry.p99 < LATENCY_LIMIT_MS))
    failures.push(`telemetry p99 ${Math.round(stage.latency.telemetry.p99)} ms`);
  if (stage.latency.eventsNeverQueryable > 0)
    failures.push(`${stage.latency.eventsNeverQueryable} sampled events not queryable in time`);
  if (stage.latency.apiErrors > 0)
    failures.push(`${stage.latency.apiErrors} API errors (${stage.latency.firstApiError ?? '?'})`);
  if (stage.lostAfterAcknowledgement > 0) failures.push(`${stage.lostAfterAcknowledgement} events lost`);
  if (stage.declaredLost > 0) failures.push(`${stage.declaredLost} events dropped by devices`);
  if (stage.duplicateRows > 0) failures.push(`${stage.duplicateRows} duplicate rows`);
  if (stage.unexpectedRows > 0)
    failures.push(`${stage.unexpectedRows} unexpected rows (${stage.unexpectedSample.join(', ')})`);
  return failures;
}
