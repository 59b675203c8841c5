/**
 * `npm run bench:fleet` (issue #10): the real control plane (dist, role `all`) with a private Mosquitto and its
 * own database, topic and queue prefix on the machine's PostgreSQL and Redis; simulated devices
 * (agent/src/simulator.ts, several simulator processes) ramped in stages (default 1,000 → 5,000 → 10,000
 * connected), telemetry at 1 Hz and emotion events. Per stage: time to connect, offered against stored rates,
 * ingest-to-queryable p50/p99, loss and duplicates, CPU per process, control-plane RSS, simulator RSS per
 * device; the highest stage with p99 < 2 s and nothing lost. `--profile` runs the control plane under
 * `node --cpu-prof` and summarises its top functions. Needs `npx nx run control-plane:build`. Options: `--help`.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { TopicScheme } from '@emofleet/protocol';
import { type BenchDatabase } from '../support/bench-database';
import { type CleanupStack } from '../support/cleanup-stack';
import { type ControlPlaneApi } from '../support/control-plane-api';
import { describeBenchMachine } from '../support/bench-machine';
import { benchProgress, describeError, runBenchMain } from '../support/bench-main';
import { startBenchStack } from '../support/bench-stack';
import { type ControlPlaneProcess } from '../support/control-plane-process';
import { type DeviceCounters, type FleetSnapshot } from '../support/fleet-simulator-messages';
import { summariseLatencies } from '../support/latency-summary';
import { type PrivateBroker } from '../support/private-broker';
import {
  cpuSecondsBetween,
  machineCpuTicks,
  namedProcessesCpuSeconds,
  processCpuSeconds,
} from '../support/process-cpu';
import { QueryableLatencySampler } from '../support/queryable-latency-sampler';
import { LATENCY_SAMPLE_SELECTOR, simulatedFleet } from '../support/simulated-fleet';
import { onlineDevices, SimulatorFleet, sumCounters, unacknowledgedEvents } from '../support/simulator-fleet';
import { summariseCpuProfile, type ProfileSummary } from '../support/cpu-profile-summary';
import {
  FLEET_BENCH_USAGE,
  FleetBenchUsageError,
  parseFleetBenchOptions,
  type FleetBenchOptions,
} from './fleet-bench-options';
import { stageFailures, type FleetBenchResult, type StageResult } from './fleet-bench-result';
import { formatFleetReport } from './fleet-report';

const REPOSITORY_ROOT = resolve(__dirname, '../../../..');
const TELEMETRY_INTERVAL_MS = 1000;
const LATENCY_POLL_INTERVAL_MS = 50;
/** How long a stage waits, before measuring, for the control plane to work off what connecting sent. */
const CATCH_UP_TIMEOUT_MS = 60_000;
/** How long a stage's sampler waits after the window for what it saw on the broker to become queryable. */
const LATENCY_FINISH_TIMEOUT_MS = 30_000;
const TELEMETRY_SETTLE_QUIET_MS = 3000;

const progress = benchProgress('fleet');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface MeasurePoint {
  fleet: FleetSnapshot;
  metrics: Map<string, number>;
  metricsAt: number;
  databaseCommits: number;
  cpuAt: number;
  controlPlaneCpu: number;
  postgresCpu: Map<number, number>;
  redisCpu: Map<number, number>;
  mosquittoCpu: number;
  machine: { busy: number; total: number };
}

interface Stack {
  fleet: SimulatorFleet;
  api: ControlPlaneApi;
  database: BenchDatabase;
  controlPlane: ControlPlaneProcess;
  broker: PrivateBroker;
}

async function measurePoint({ fleet, api, database, controlPlane, broker }: Stack): Promise<MeasurePoint> {
  const requested = Date.now();
  const [snapshot, metrics, databaseCommits] = await Promise.all([
    fleet.snapshot(),
    api.metrics(),
    database.committedTransactions(),
  ]);
  return {
    fleet: snapshot,
    metrics: metrics.samples,
    metricsAt: (requested + metrics.answeredAt) / 2,
    databaseCommits,
    cpuAt: Date.now(),
    controlPlaneCpu: processCpuSeconds(controlPlane.pid ?? 0),
    postgresCpu: namedProcessesCpuSeconds('postgres'),
    redisCpu: namedProcessesCpuSeconds('redis-server'),
    mosquittoCpu: processCpuSeconds(broker.pid),
    machine: machineCpuTicks(),
  };
}

async function waitForBacklogBelow(
  fleet: SimulatorFleet,
  limit: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (unacknowledgedEvents(await fleet.snapshot()) <= limit) return true;
    await sleep(1000);
  }
  return false;
}

async function runStage(
  stack: Stack,
  options: FleetBenchOptions,
  target: number,
  connectStarted: number,
  sampler: { topics: TopicScheme; sampleDeviceIds: string[]; mqttUrl: string },
): Promise<StageResult> {
  const { fleet, database, controlPlane } = stack;
  const connection = await fleet.waitUntilConnected(
    target,
    connectStarted,
    options.connectTimeoutSeconds,
    progress,
  );
  progress(
    connection.seconds === undefined
      ? // The simulators start their agents one by one before the first count: this can be past the timeout.
        `only ${connection.connected} of ${target} devices connected after ${connection.elapsedSeconds.toFixed(0)} s ` +
          `(timeout ${options.connectTimeoutSeconds} s)`
      : `${target} devices connected in ${connection.seconds.toFixed(1)} s`,
  );
  const warmUpMs = Math.min(20_000, Math.max(5000, 1000 / options.eventRate));
  await sleep(warmUpMs);
  if (!(await waitForBacklogBelow(fleet, target * options.eventRate * 3, CATCH_UP_TIMEOUT_MS)))
    progress(`the control plane did not catch up within ${CATCH_UP_TIMEOUT_MS} ms; measuring anyway`);

  const latencySampler = await QueryableLatencySampler.start({
    mqttUrl: sampler.mqttUrl,
    topics: sampler.topics,
    sampleDeviceIds: sampler.sampleDeviceIds,
    sampleTag: LATENCY_SAMPLE_SELECTOR,
    api: stack.api,
    pollIntervalMs: LATENCY_POLL_INTERVAL_MS,
  });
  let latencies;
  let start;
  let end;
  try {
    // The sampler must have subscribed before recording starts: a second for the broker to confirm.
    await sleep(1000);
    progress(`measuring ${target} devices for ${options.stageDurationSeconds} s`);
    start = await measurePoint(stack);
    latencySampler.recording = true;
    await sleep(options.stageDurationSeconds * 1000);
    latencySampler.recording = false;
    end = await measurePoint(stack);
    latencies = await latencySampler.finish(LATENCY_FINISH_TIMEOUT_MS);
  } finally {
    latencySampler.close();
  }
  // Acknowledgements are read before the check's database snapshot (an acknowledged event was stored before it),
  // the created seqs after it (a stored event was created before it), so a running fleet skews neither check.
  const acknowledged = new Map((await fleet.snapshot()).devices.map((device) => [device.deviceId, device]));
  const storage = await database.checkEventStorage(async () => {
    const created = new Map((await fleet.snapshot()).devices.map((device) => [device.deviceId, device]));
    return end.fleet.devices.map((device) => ({
      deviceId: device.deviceId,
      appendedAtMeasurementEnd: device.appendedSeq,
      appendedAtStop: created.get(device.deviceId)?.appendedSeq ?? device.appendedSeq,
      acknowledgedAtStop: acknowledged.get(device.deviceId)?.acknowledgedSeq ?? 0,
    }));
  });

  const fleetSeconds = (end.fleet.at - start.fleet.at) / 1000;
  const metricsSeconds = (end.metricsAt - start.metricsAt) / 1000;
  const cpuSeconds = (end.cpuAt - start.cpuAt) / 1000;
  const offered = (counter: (device: DeviceCounters) => number) =>
    (sumCounters(end.fleet, counter) - sumCounters(start.fleet, counter)) / fleetSeconds;
  const stored = (name: string) =>
    ((end.metrics.get(name) ?? 0) - (start.metrics.get(name) ?? 0)) / metricsSeconds;
  const machineTicks = end.machine.total - start.machine.total;
  const connected = onlineDevices(end.fleet);
  const stage: Omit<StageResult, 'failures'> = {
    targetDevices: target,
    connectedDevices: Math.min(connection.connected, connected),
    connectSeconds: connection.seconds,
    simulatorProcesses: fleet.size,
    measuredSeconds: fleetSeconds,
    telemetryWindows: {
      nominal: (connected * 1000) / TELEMETRY_INTERVAL_MS,
      offered: offered((device) => device.telemetryPublished),
      stored: stored('emofleet_telemetry_samples_stored_total'),
    },
    events: {
      nominal: connected * options.eventRate,
      offered: offered((device) => device.appendedSeq),
      stored: stored('emofleet_events_stored_total'),
    },
    eventBatchesStoredPerSecond: stored('emofleet_event_batches_stored_total'),
    databaseCommitsPerSecond: (end.databaseCommits - start.databaseCommits) / metricsSeconds,
    latency: {
      events: summariseLatencies(latencies.eventsMs),
      telemetry: summariseLatencies(latencies.telemetryMs),
      eventsNeverQueryable: latencies.eventsNeverQueryable,
      telemetryNeverShown: latencies.telemetryNeverShown,
      apiErrors: latencies.apiErrors,
      firstApiError: latencies.firstApiError,
    },
    unacknowledgedEvents: {
      atStart: unacknowledgedEvents(start.fleet),
      atEnd: unacknowledgedEvents(end.fleet),
    },
    lostAfterAcknowledgement: storage.lostAfterAcknowledgement,
    duplicateRows: storage.duplicateRows,
    unexpectedRows: storage.unexpectedRows,
    unexpectedSample: storage.unexpectedSample,
    declaredLost:
      sumCounters(end.fleet, (device) => device.droppedEvents) -
      sumCounters(start.fleet, (device) => device.droppedEvents),
    cpuPercent: {
      controlPlane: ((end.controlPlaneCpu - start.controlPlaneCpu) / cpuSeconds) * 100,
      postgres: (cpuSecondsBetween(start.postgresCpu, end.postgresCpu) / cpuSeconds) * 100,
      redis: (cpuSecondsBetween(start.redisCpu, end.redisCpu) / cpuSeconds) * 100,
      mosquitto: ((end.mosquittoCpu - start.mosquittoCpu) / cpuSeconds) * 100,
      simulators: ((end.fleet.cpuSeconds - start.fleet.cpuSeconds) / fleetSeconds) * 100,
    },
    machineCoresBusy:
      machineTicks > 0 ? ((end.machine.busy - start.machine.busy) / machineTicks) * cpus().length : 0,
    controlPlaneRssBytes: controlPlane.rssBytes(),
    simulatorRssBytes: end.fleet.rssBytes,
    simulatorEventLoopDelayMs: end.fleet.eventLoopDelayMs,
  };
  return { ...stage, failures: stageFailures(stage) };
}

async function settledTelemetryCount(database: BenchDatabase, published: number): Promise<void> {
  let last = -1;
  let changedAt = Date.now();
  for (;;) {
    const stored = await database.telemetrySampleCount();
    if (stored >= published) return;
    if (stored !== last) [last, changedAt] = [stored, Date.now()];
    else if (Date.now() - changedAt > TELEMETRY_SETTLE_QUIET_MS) return;
    await sleep(250);
  }
}

async function run(
  options: FleetBenchOptions,
  cleanup: CleanupStack,
  workDirectory: string,
): Promise<FleetBenchResult> {
  const maxDevices = options.stages.at(-1) ?? 0;
  const { broker, database, controlPlane, api, topicPrefix, fleetDirectory, profileDirectory } =
    await startBenchStack(cleanup, workDirectory, { profile: options.profile, progress });

  // The latency sample is spread over the first stage's devices, which stay connected through every stage.
  const firstStage = options.stages[0] ?? 0;
  const devices = [
    ...simulatedFleet(firstStage, options.latencySample),
    ...simulatedFleet(maxDevices, 0).slice(firstStage),
  ];
  await database.provisionDevices(devices);
  const sampleDeviceIds = devices.filter((device) => 'latency-sample' in device.tags).map((d) => d.id);

  const fleet = new SimulatorFleet();
  cleanup.add('ending the simulator processes', () => fleet.kill());
  const stages: StageResult[] = [];
  const stageErrors: string[] = [];
  let connectedSoFar = 0;
  for (const target of options.stages) {
    progress(`stage ${target}: starting devices ${connectedSoFar + 1}..${target}`);
    const connectStarted = Date.now();
    await fleet.add(connectedSoFar + 1, target, {
      mqttUrl: broker.url,
      topicPrefix,
      dataDir: fleetDirectory,
      logDirectory: workDirectory,
      secret: 'simulated',
      manifestPublicKey: null,
      fps: options.fps,
      expressionSeconds: 1 / options.eventRate,
      telemetryIntervalMs: TELEMETRY_INTERVAL_MS,
      devicesPerProcess: options.devicesPerProcess,
    });
    let stage: StageResult;
    try {
      stage = await runStage(stack(), options, target, connectStarted, {
        topics: new TopicScheme(topicPrefix),
        sampleDeviceIds,
        mqttUrl: broker.url,
      });
    } catch (error) {
      // Report the stages measured so far rather than nothing.
      progress(`stage ${target} broke off: ${describeError(error)}`);
      stageErrors.push(`${target} devices: ${describeError(error)}`);
      break;
    }
    stages.push(stage);
    // The stage's figures now, in case a later stage breaks the run.
    progress(`stage ${target} result: ${JSON.stringify(stage)}`);
    progress(
      `stage ${target}: ${stage.failures.length === 0 ? 'sustained' : `not sustained (${stage.failures.join('; ')})`}`,
    );
    connectedSoFar = target;
    if (stage.connectedDevices < target) {
      progress(`stopping the ramp: stage ${target} did not connect all its devices`);
      break;
    }
  }

  function stack(): Stack {
    return { fleet, api, database, controlPlane, broker };
  }

  progress('stopping the fleet');
  const stopped = await fleet.stop();
  const published = stopped.devices.map((device) => ({
    deviceId: device.deviceId,
    windows: device.telemetryPublished,
  }));
  await settledTelemetryCount(
    database,
    published.reduce((total, device) => total + device.windows, 0),
  );
  const telemetryStorage = await database.checkTelemetryStorage(published);
  const controlPlaneProblems = controlPlane.loggedProblems();
  let profile: ProfileSummary | undefined;
  if (profileDirectory !== undefined) {
    progress('stopping the control plane to write its CPU profile');
    const pid = controlPlane.pid ?? 0;
    await controlPlane.stop();
    profile = summariseCpuProfile(profileDirectory, pid, REPOSITORY_ROOT);
  }
  const sustained = stages.filter((stage) => stage.failures.length === 0).map((stage) => stage.targetDevices);
  return {
    options,
    machine: { ...(await describeBenchMachine(database)), openFilesLimit: openFilesLimit() },
    stages,
    highestSustainedDevices: sustained.length > 0 ? Math.max(...sustained) : undefined,
    telemetryStorage,
    stageErrors,
    controlPlaneProblems,
    agentWarnings: stopped.agentWarnings,
    profile,
  };
}

function openFilesLimit(): string {
  try {
    return execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

runBenchMain({
  name: 'fleet',
  usage: FLEET_BENCH_USAGE,
  parse: parseFleetBenchOptions,
  isUsageError: (error): error is FleetBenchUsageError => error instanceof FleetBenchUsageError,
  run,
  format: formatFleetReport,
  passed: (result) =>
    result.stages.every((stage) => stage.lostAfterAcknowledgement === 0 && stage.duplicateRows === 0) &&
    result.telemetryStorage.devicesDiffering === 0,
  keepWorkDirectory: (options) => options.profile,
  cleaningUp: 'control plane, fleet, broker, queues, database',
});
