import { formatProfileSummary } from '../support/cpu-profile-summary';
import { type LatencySummary } from '../support/latency-summary';
import { fixed, textTable } from '../support/text-table';
import { LATENCY_LIMIT_MS, type FleetBenchResult, type StageRate } from './fleet-bench-result';

const MIB = 1024 * 1024;
const seconds = (ms: number) => fixed(ms / 1000, 2);
const latency = (summary: LatencySummary) =>
  summary.count === 0 ? '-' : `${seconds(summary.p50)} / ${seconds(summary.p99)} (${summary.count})`;
const rate = (value: StageRate) =>
  `${fixed(value.nominal, 0)} / ${fixed(value.offered, 0)} / ${fixed(value.stored, 0)}`;
const count = (value: number) => Math.round(value).toLocaleString('en-US');

/** The tables `npm run bench:fleet` prints. */
export function formatFleetReport(result: FleetBenchResult): string {
  const { options, machine } = result;
  const lines: string[] = [
    `bench:fleet on ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node}, PostgreSQL ` +
      `${machine.postgres}, ulimit -n ${machine.openFilesLimit}`,
    `stages ${options.stages.join(' → ')} devices, ${options.stageDurationSeconds} s each, ` +
      `${options.eventRate} events/s and 1 telemetry window/s per device, ${options.fps} fps, ` +
      `${options.devicesPerProcess} devices per simulator process`,
    '',
  ];
  const header = ['', ...result.stages.map((stage) => `${count(stage.targetDevices)} devices`)];
  const row = (title: string, cell: (stage: FleetBenchResult['stages'][number]) => string) => [
    title,
    ...result.stages.map(cell),
  ];
  lines.push(
    textTable(header, [
      row('connected (simulator processes)', (s) => `${count(s.connectedDevices)} (${s.simulatorProcesses})`),
      row('time to connect the stage, s', (s) => fixed(s.connectSeconds, 1)),
      row('telemetry/s nominal / offered / stored', (s) => rate(s.telemetryWindows)),
      row('events/s nominal / offered / stored', (s) => rate(s.events)),
      row('event batches stored/s', (s) => fixed(s.eventBatchesStoredPerSecond, 0)),
      row('PostgreSQL commits/s', (s) => fixed(s.databaseCommitsPerSecond, 0)),
      row('events → GET /events p50 / p99 s (n)', (s) => latency(s.latency.events)),
      row('telemetry → GET /devices p50 / p99 s (n)', (s) => latency(s.latency.telemetry)),
      row('sampled events never queryable', (s) => count(s.latency.eventsNeverQueryable)),
      row('API errors while sampling', (s) => count(s.latency.apiErrors)),
      row(
        'unacknowledged events start → end',
        (s) => `${count(s.unacknowledgedEvents.atStart)} → ${count(s.unacknowledgedEvents.atEnd)}`,
      ),
      row(
        'lost / duplicated / dropped by devices',
        (s) => `${count(s.lostAfterAcknowledgement)} / ${count(s.duplicateRows)} / ${count(s.declaredLost)}`,
      ),
      row('CPU % control plane', (s) => fixed(s.cpuPercent.controlPlane, 0)),
      row('CPU % PostgreSQL (all backends)', (s) => fixed(s.cpuPercent.postgres, 0)),
      row('CPU % Redis', (s) => fixed(s.cpuPercent.redis, 0)),
      row('CPU % Mosquitto (private)', (s) => fixed(s.cpuPercent.mosquitto, 0)),
      row('CPU % simulators', (s) => fixed(s.cpuPercent.simulators, 0)),
      row('machine cores busy', (s) => fixed(s.machineCoresBusy, 2)),
      row('control plane RSS, MiB', (s) => fixed(s.controlPlaneRssBytes / MIB, 0)),
      row('simulator RSS per device, MiB', (s) =>
        fixed(s.simulatorRssBytes / MIB / Math.max(1, s.connectedDevices), 2),
      ),
      row(
        'simulator event-loop delay p99 / max, ms',
        (s) => `${fixed(s.simulatorEventLoopDelayMs.p99, 0)} / ${fixed(s.simulatorEventLoopDelayMs.max, 0)}`,
      ),
      row('sustained (p99 < 2 s, nothing lost)', (s) => (s.failures.length === 0 ? 'yes' : 'no')),
    ]),
    '',
  );
  for (const error of result.stageErrors) lines.push(`stage broke off: ${error}`);
  for (const stage of result.stages)
    if (stage.failures.length > 0)
      lines.push(`${count(stage.targetDevices)} devices not sustained: ${stage.failures.join('; ')}`);
  lines.push(
    result.highestSustainedDevices === undefined
      ? `no stage sustained p99 < ${LATENCY_LIMIT_MS / 1000} s with nothing lost`
      : `highest sustained stage: ${count(result.highestSustainedDevices)} devices`,
    `telemetry over the run: ${count(result.telemetryStorage.published)} windows published, ` +
      `${count(result.telemetryStorage.stored)} stored, ${result.telemetryStorage.devicesDiffering} devices differing`,
    `control plane warnings/errors logged: ${result.controlPlaneProblems.count}` +
      (result.controlPlaneProblems.first.length > 0
        ? ` (first: ${result.controlPlaneProblems.first.join(' | ')})`
        : '') +
      `; agent warnings: ${result.agentWarnings}`,
  );
  if (result.profile !== undefined) lines.push('', ...formatProfileSummary(result.profile));
  return `${lines.join('\n')}\n`;
}
