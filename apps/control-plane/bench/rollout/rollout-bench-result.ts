import { type BenchMachine } from '../support/bench-machine';
import { type ProfileSummary } from '../support/cpu-profile-summary';
import { type RolloutBenchOptions } from './rollout-bench-options';
import { type RolloutTimeline } from './rollout-timeline';

/** Everything `npm run bench:rollout` measured (`--json` prints it as is). */
export interface RolloutBenchResult {
  options: RolloutBenchOptions;
  machine: BenchMachine;
  fleet: {
    devices: number;
    connected: number;
    /** Seconds the fleet took to connect; undefined when it did not within the time-out. */
    connectSeconds: number | undefined;
    simulatorProcesses: number;
    simulatorRssBytes: number;
  };
  /** The rolled-out version and the size of the bundle each device downloads. */
  model: { name: string; version: number; bundleBytes: number };
  rolloutId: string;
  /** Whether the bench stopped waiting before the rollout ended. */
  timedOut: boolean;
  timeline: RolloutTimeline;
  /** From the rollout's creation to its end (or the time-out): CPU per process, as % of one core. */
  cpuPercent: {
    controlPlane: number;
    postgres: number;
    redis: number;
    mosquitto: number;
    simulators: number;
  };
  machineCoresBusy: number;
  controlPlaneRssBytes: { beforeRollout: number; peak: number };
  controlPlaneProblems: { count: number; first: string[] };
  /** The simulators' event-loop delay while the rollout ran (a lagging simulator answers late). */
  simulatorEventLoopDelayMs: { p99: number; max: number };
  agentWarnings: number;
  /** The agents' warning lines by message. */
  agentWarningMessages: Record<string, number>;
  profile: ProfileSummary | undefined;
  /** Why the run failed its checks; empty when every device ended healthy on the rolled-out model. */
  failures: string[];
}

/** What makes a run fail: a rollout that did not complete, a device not healthy, or one not on the new model. */
export function rolloutFailures(
  result: Pick<RolloutBenchResult, 'timedOut' | 'timeline' | 'fleet' | 'options'>,
): string[] {
  const { timeline } = result;
  const failures: string[] = [];
  if (result.timedOut)
    failures.push(
      `the rollout did not end within ${result.options.rolloutTimeoutSeconds} s (${timeline.state})`,
    );
  else if (timeline.state !== 'completed')
    failures.push(
      `the rollout ended ${timeline.state}${timeline.stateReason ? `: ${timeline.stateReason}` : ''}`,
    );
  if (timeline.targets !== result.fleet.devices)
    failures.push(`${timeline.targets} targets for ${result.fleet.devices} devices`);
  const healthy = timeline.targetStates.healthy ?? 0;
  if (healthy !== timeline.targets) {
    const others = Object.entries(timeline.targetStates)
      .filter(([state]) => state !== 'healthy')
      .map(([state, count]) => `${count} ${state}`);
    failures.push(`${timeline.targets - healthy} targets not healthy (${others.join(', ')})`);
  }
  if (timeline.healthyRunningTheModel !== healthy)
    failures.push(
      `${healthy - timeline.healthyRunningTheModel} healthy devices do not report the rolled-out model`,
    );
  if (timeline.jobsQueued !== timeline.targets)
    failures.push(`${timeline.jobsQueued} device jobs queued for ${timeline.targets} targets`);
  return failures;
}
