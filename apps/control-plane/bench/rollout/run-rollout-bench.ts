/**
 * `npm run bench:rollout` (issue #10): rollout dispatch at fleet scale. The real control plane (dist, role `all`)
 * with a private Mosquitto and its own database and queue prefix; N simulated devices (agent/src/simulator.ts:
 * the real connection, reconcile, download, signature check, slot switch and health gate, with the synthetic
 * detector) provisioned with a credential and connected; then one rollout of a freshly uploaded, signed model
 * version to all of them in a single 100 % phase. Reports, per device and from the control plane's own records,
 * when the engine started it, when its job and desired state were written, when its first report arrived, when
 * it finished installing and when it was counted healthy; and the CPU and memory of each process meanwhile.
 * Needs `npx nx run control-plane:build`. Options: `--help`.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { smallExpressionModel } from '@emofleet/darknet';
import { describeBenchMachine } from '../support/bench-machine';
import { benchProgress, runBenchMain } from '../support/bench-main';
import { type BenchStack, startBenchStack } from '../support/bench-stack';
import { type CleanupStack } from '../support/cleanup-stack';
import { summariseCpuProfile } from '../support/cpu-profile-summary';
import {
  cpuSecondsBetween,
  machineCpuTicks,
  namedProcessesCpuSeconds,
  processCpuSeconds,
} from '../support/process-cpu';
import { simulatedFleet } from '../support/simulated-fleet';
import { SimulatorFleet } from '../support/simulator-fleet';
import {
  parseRolloutBenchOptions,
  ROLLOUT_BENCH_USAGE,
  RolloutBenchUsageError,
  type RolloutBenchOptions,
} from './rollout-bench-options';
import { rolloutFailures, type RolloutBenchResult } from './rollout-bench-result';
import { formatRolloutReport } from './rollout-report';
import { countTargetStates, readRolloutTimeline } from './rollout-timeline';

const REPOSITORY_ROOT = resolve(__dirname, '../../../..');
const NAMES = readFileSync(resolve(REPOSITORY_ROOT, 'libs/darknet/models/expressions.names'), 'utf8');
/** The small expression network of libs/darknet (96x96, three conv + pool stages): a bundle of a few KiB. */
const MODEL_STAGES = [8, 16, 32];
const MODEL_NAME = 'rollout-bench';
const DEVICE_SECRET = 'rollout-bench-device-secret';
const PIPELINE_TIMEOUT_MS = 300_000;
const POLL_INTERVAL_MS = 1000;
const PROGRESS_EVERY_MS = 10_000;
const FINAL_ROLLOUT_STATES = new Set(['completed', 'aborted', 'canceled']);

const progress = benchProgress('rollout');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface CpuPoint {
  at: number;
  controlPlane: number;
  postgres: Map<number, number>;
  redis: Map<number, number>;
  mosquitto: number;
  simulators: number;
  /** The simulators' worst event-loop delay since the previous point. */
  simulatorEventLoopDelayMs: { p99: number; max: number };
  machine: { busy: number; total: number };
}

async function cpuPoint(stack: BenchStack, fleet: SimulatorFleet): Promise<CpuPoint> {
  const { cpuSeconds: simulators, eventLoopDelayMs } = await fleet.snapshot();
  return {
    at: Date.now(),
    controlPlane: processCpuSeconds(stack.controlPlane.pid ?? 0),
    postgres: namedProcessesCpuSeconds('postgres'),
    redis: namedProcessesCpuSeconds('redis-server'),
    mosquitto: processCpuSeconds(stack.broker.pid),
    simulators,
    simulatorEventLoopDelayMs: eventLoopDelayMs,
    machine: machineCpuTicks(),
  };
}

/** Uploads the model and waits for the pipeline (analysis, ONNX export and check, signed manifests). */
async function uploadReadyModel(stack: BenchStack): Promise<{ version: number; bundleBytes: number }> {
  const { cfg, weights } = smallExpressionModel(MODEL_STAGES, 1);
  const created = await stack.api.uploadModelVersion(MODEL_NAME, { cfg, weights, names: NAMES });
  const deadline = Date.now() + PIPELINE_TIMEOUT_MS;
  for (;;) {
    const version = await stack.api.modelVersion(MODEL_NAME, created.version);
    if (version.status === 'ready') {
      const bundle = version.manifests?.find((manifest) => manifest.format === 'darknet-bundle');
      if (bundle === undefined) throw new Error(`${MODEL_NAME}@${created.version} is ready without a bundle`);
      return { version: created.version, bundleBytes: bundle.sizeBytes };
    }
    if (version.status === 'failed')
      throw new Error(
        `${MODEL_NAME}@${created.version} failed in the pipeline: ${version.statusReason ?? '?'}`,
      );
    if (Date.now() > deadline)
      throw new Error(`${MODEL_NAME}@${created.version} not ready after ${PIPELINE_TIMEOUT_MS} ms`);
    await sleep(250);
  }
}

async function run(
  options: RolloutBenchOptions,
  cleanup: CleanupStack,
  workDirectory: string,
): Promise<RolloutBenchResult> {
  const stack = await startBenchStack(cleanup, workDirectory, { profile: options.profile, progress });
  const { api, database, controlPlane } = stack;
  await database.provisionDevices(simulatedFleet(options.devices, 0), { secret: DEVICE_SECRET });

  const model = await uploadReadyModel(stack);
  progress(`${MODEL_NAME}@${model.version} ready (${model.bundleBytes} byte bundle)`);

  const fleet = new SimulatorFleet();
  cleanup.add('ending the simulator processes', () => fleet.kill());
  const connectStarted = Date.now();
  await fleet.add(1, options.devices, {
    mqttUrl: stack.broker.url,
    topicPrefix: stack.topicPrefix,
    dataDir: stack.fleetDirectory,
    logDirectory: workDirectory,
    secret: DEVICE_SECRET,
    manifestPublicKey: await api.signingPublicKey(),
    fps: options.fps,
    expressionSeconds: 1 / options.eventRate,
    telemetryIntervalMs: options.telemetryIntervalSeconds * 1000,
    devicesPerProcess: options.devicesPerProcess,
  });
  const connection = await fleet.waitUntilConnected(
    options.devices,
    connectStarted,
    options.connectTimeoutSeconds,
    progress,
  );
  progress(
    connection.seconds === undefined
      ? `only ${connection.connected} of ${options.devices} devices connected; rolling out anyway`
      : `${options.devices} devices connected in ${connection.seconds.toFixed(1)} s`,
  );
  // What connecting sent (births, states, first telemetry) is worked off before the rollout starts.
  await sleep(5000);

  const rssBeforeRollout = controlPlane.rssBytes();
  let rssPeak = rssBeforeRollout;
  const start = await cpuPoint(stack, fleet);
  const rollout = await api.post<{ id: string }>('/rollouts', {
    name: `dispatch to ${options.devices} devices`,
    model: { name: MODEL_NAME, version: model.version },
    phases: [{ percent: 100 }],
    gates: { warmupFrames: 0, measureFrames: options.gateFrames },
    maxConcurrentInstalls:
      options.maxConcurrentInstalls === 0 ? options.devices : options.maxConcurrentInstalls,
    installTimeoutSeconds: Math.max(600, options.rolloutTimeoutSeconds),
    installRetries: 0,
  });
  progress(`rollout ${rollout.id} created`);
  const deadline = Date.now() + options.rolloutTimeoutSeconds * 1000;
  let lastProgress = 0;
  let timedOut = false;
  for (;;) {
    const status = await countTargetStates(database, rollout.id);
    rssPeak = Math.max(rssPeak, controlPlane.rssBytes());
    if (FINAL_ROLLOUT_STATES.has(status.rolloutState)) break;
    if (Date.now() > deadline) {
      timedOut = true;
      break;
    }
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      progress(`rollout ${status.rolloutState}: ${JSON.stringify(status.targets)}`);
      lastProgress = Date.now();
    }
    await sleep(POLL_INTERVAL_MS);
  }
  const end = await cpuPoint(stack, fleet);
  const timeline = await readRolloutTimeline(database, rollout.id);
  progress(`rollout ${timeline.state}; stopping the fleet`);
  const stopped = await fleet.stop();
  const controlPlaneProblems = controlPlane.loggedProblems();
  let profile;
  if (stack.profileDirectory !== undefined) {
    progress('stopping the control plane to write its CPU profile');
    const pid = controlPlane.pid ?? 0;
    await controlPlane.stop();
    profile = summariseCpuProfile(stack.profileDirectory, pid, REPOSITORY_ROOT);
  }
  const elapsed = (end.at - start.at) / 1000;
  const share = (seconds: number) => (seconds / elapsed) * 100;
  const machineTicks = end.machine.total - start.machine.total;
  const measured = {
    options,
    machine: await describeBenchMachine(database),
    fleet: {
      devices: options.devices,
      connected: connection.connected,
      connectSeconds: connection.seconds,
      simulatorProcesses: fleet.size,
      simulatorRssBytes: stopped.rssBytes,
    },
    model: { name: MODEL_NAME, ...model },
    rolloutId: rollout.id,
    timedOut,
    timeline,
    cpuPercent: {
      controlPlane: share(end.controlPlane - start.controlPlane),
      postgres: share(cpuSecondsBetween(start.postgres, end.postgres)),
      redis: share(cpuSecondsBetween(start.redis, end.redis)),
      mosquitto: share(end.mosquitto - start.mosquitto),
      simulators: share(end.simulators - start.simulators),
    },
    machineCoresBusy:
      machineTicks > 0 ? ((end.machine.busy - start.machine.busy) / machineTicks) * cpus().length : 0,
    controlPlaneRssBytes: { beforeRollout: rssBeforeRollout, peak: rssPeak },
    controlPlaneProblems,
    simulatorEventLoopDelayMs: end.simulatorEventLoopDelayMs,
    agentWarnings: stopped.agentWarnings,
    agentWarningMessages: stopped.agentWarningMessages,
    profile,
  };
  return { ...measured, failures: rolloutFailures(measured) };
}

runBenchMain({
  name: 'rollout',
  usage: ROLLOUT_BENCH_USAGE,
  parse: parseRolloutBenchOptions,
  isUsageError: (error): error is RolloutBenchUsageError => error instanceof RolloutBenchUsageError,
  run,
  format: formatRolloutReport,
  passed: (result) => result.failures.length === 0,
  keepWorkDirectory: (options) => options.profile,
  cleaningUp: 'control plane, fleet, broker, queues, database',
});
