import { formatProfileSummary } from '../support/cpu-profile-summary';
import { type LatencySummary } from '../support/latency-summary';
import { fixed, textTable } from '../support/text-table';
import { describeAgentWarnings } from '../support/simulator-fleet';
import { type RolloutBenchResult } from './rollout-bench-result';
import { MILESTONE_DESCRIPTIONS, MILESTONES } from './rollout-timeline';

const MIB = 1024 * 1024;
const count = (value: number) => Math.round(value).toLocaleString('en-US');
const seconds = (summary: LatencySummary, value: number) =>
  summary.count === 0 ? '-' : fixed(value / 1000, 2);

/** The tables `npm run bench:rollout` prints. */
export function formatRolloutReport(result: RolloutBenchResult): string {
  const { options, machine, fleet, timeline } = result;
  const installsAtOnce =
    options.maxConcurrentInstalls === 0 ? 'every device at once' : `${options.maxConcurrentInstalls} at once`;
  const lines: string[] = [
    `bench:rollout on ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node}, PostgreSQL ${machine.postgres}`,
    `${count(fleet.devices)} simulated devices in ${fleet.simulatorProcesses} processes, ` +
      `${count(fleet.connected)} connected` +
      (fleet.connectSeconds === undefined ? ' (not all)' : ` in ${fixed(fleet.connectSeconds, 1)} s`) +
      `; telemetry every ${options.telemetryIntervalSeconds} s, ${options.eventRate} events/s, ${options.fps} fps per device`,
    `rollout ${result.rolloutId}: ${result.model.name}@${result.model.version} (${count(result.model.bundleBytes)} ` +
      `byte bundle, signed), one 100 % phase, installs ${installsAtOnce}, gate of ${options.gateFrames} frames`,
    '',
    textTable(
      ['milestone (seconds after the rollout was created)', 'devices', 'p50', 'p95', 'p99', 'last'],
      MILESTONES.map((milestone) => {
        const summary = timeline.milestones[milestone];
        return [
          MILESTONE_DESCRIPTIONS[milestone],
          count(summary.count),
          seconds(summary, summary.p50),
          seconds(summary, summary.p95),
          seconds(summary, summary.p99),
          seconds(summary, summary.max),
        ];
      }),
    ),
    '',
    `rollout ${timeline.state}` +
      (timeline.finishedAfterSeconds === undefined
        ? result.timedOut
          ? ` (still running when the bench stopped waiting after ${options.rolloutTimeoutSeconds} s)`
          : ''
        : ` ${fixed(timeline.finishedAfterSeconds, 1)} s after it was created`) +
      `; targets: ${Object.entries(timeline.targetStates)
        .map(([state, targets]) => `${count(targets)} ${state}`)
        .join(', ')}; ${count(timeline.healthyRunningTheModel)} healthy devices report the new model; ` +
      `${count(timeline.jobsQueued)} device jobs queued`,
    `CPU % of one core while it ran: control plane ${fixed(result.cpuPercent.controlPlane, 0)}, PostgreSQL ` +
      `${fixed(result.cpuPercent.postgres, 0)}, Redis ${fixed(result.cpuPercent.redis, 0)}, Mosquitto ` +
      `${fixed(result.cpuPercent.mosquitto, 0)}, simulators ${fixed(result.cpuPercent.simulators, 0)}; machine ` +
      `cores busy ${fixed(result.machineCoresBusy, 2)}`,
    `control plane RSS ${fixed(result.controlPlaneRssBytes.beforeRollout / MIB, 0)} MiB before the rollout, ` +
      `${fixed(result.controlPlaneRssBytes.peak / MIB, 0)} MiB peak; simulators ` +
      `${fixed(fleet.simulatorRssBytes / MIB / Math.max(1, fleet.devices), 2)} MiB per device; simulators' ` +
      `event-loop delay p99 ${fixed(result.simulatorEventLoopDelayMs.p99, 0)} ms, max ` +
      `${fixed(result.simulatorEventLoopDelayMs.max, 0)} ms`,
    `control plane warnings/errors logged: ${result.controlPlaneProblems.count}` +
      (result.controlPlaneProblems.first.length > 0
        ? ` (first: ${result.controlPlaneProblems.first.join(' | ')})`
        : '') +
      `; agent warnings: ${result.agentWarnings}` +
      (result.agentWarnings > 0 ? ` (${describeAgentWarnings(result.agentWarningMessages)})` : ''),
    result.failures.length === 0
      ? 'every device healthy on the rolled-out model'
      : `FAILED: ${result.failures.join('; ')}`,
  ];
  if (result.profile !== undefined) lines.push('', ...formatProfileSummary(result.profile));
  return `${lines.join('\n')}\n`;
}
