/**
 * `npm run bench:ingest` (issue #7): the real control plane (dist, role `all`) on the local PostgreSQL, Redis and
 * Mosquitto with its own database, topic prefix and queue prefix; N simulated agents (agent/src/simulator.ts)
 * sending telemetry at 1 Hz and emotion events; then ingest rates against the offered rates, ingest-to-queryable
 * latency, a check that every event (seq 1..n per device) and every telemetry window is stored exactly once, and
 * `GET /events` latency over a filter mix before and after a synthetic fill to 1M rows. Exit code 1 when anything
 * was lost or duplicated, 2 for a bad command line. Everything it created is removed at the end.
 * Needs `npx nx run control-plane:build`. Options: `--help`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYNTHETIC_LABELS } from '@emofleet/agent';
import { TopicScheme } from '@emofleet/protocol';
import { BenchDatabase } from '../support/bench-database';
import { CleanupStack } from '../support/cleanup-stack';
import { ControlPlaneApi } from '../support/control-plane-api';
import { describeBenchMachine } from '../support/bench-machine';
import { sumCounters } from '../support/simulator-fleet';
import { benchProgress, runBenchMain } from '../support/bench-main';
import { ControlPlaneProcess } from '../support/control-plane-process';
import { benchmarkEventQueries, type QueryUniverse } from './event-query-benchmark';
import { type FleetSnapshot } from '../support/fleet-simulator-messages';
import { FleetSimulator } from '../support/fleet-simulator';
import {
  INGEST_BENCH_USAGE,
  IngestBenchUsageError,
  parseIngestBenchOptions,
  type IngestBenchOptions,
} from './ingest-bench-options';
import { deliveryProblems, type IngestBenchResult } from './ingest-bench-result';
import { formatIngestReport } from './ingest-report';
import { summariseLatencies } from '../support/latency-summary';
import {
  cpuSecondsBetween,
  machineCpuTicks,
  namedProcessesCpuSeconds,
  processCpuSeconds,
} from '../support/process-cpu';
import { QueryableLatencySampler } from '../support/queryable-latency-sampler';
import { clearRetainedMessages, deleteQueueKeys } from '../support/shared-services-cleanup';
import {
  FLEET_ID_PREFIX,
  FLEET_SITES,
  LATENCY_SAMPLE_SELECTOR,
  simulatedFleet,
} from '../support/simulated-fleet';

/** The machine's services (the same ones the tests use); override with BENCH_* variables. */
const SERVICES = {
  postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  mqttUrl: process.env.BENCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
};
const TELEMETRY_INTERVAL_MS = 1000;
/**
 * The simulated devices' spools live in memory (tmpfs): on one shared disk, the fsyncs of thousands of spools
 * (each on its own disk in a real fleet) would throttle the simulator's single event loop, not the control plane.
 */
const SHARED_MEMORY = '/dev/shm';
const LATENCY_POLL_INTERVAL_MS = 50;
/** How long the warm-up waits for the control plane to work off what the fleet sent while starting. */
const CATCH_UP_TIMEOUT_MS = 120_000;
const TELEMETRY_SETTLE_QUIET_MS = 3000;

const progress = benchProgress('ingest');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counters read at the start and the end of the measured window, each with its own time (under load the reads
 * take a while): the fleet's in `fleet.at`, the control plane's metrics at `metricsAt`, CPU times at `cpuAt`.
 */
interface MeasurePoint {
  fleet: FleetSnapshot;
  metrics: Map<string, number>;
  metricsAt: number;
  /** Transactions committed in the run's database (the bench's own few reads included). */
  databaseCommits: number;
  cpuAt: number;
  controlPlaneCpu: number;
  postgresCpu: Map<number, number>;
  mosquittoCpu: Map<number, number>;
  machine: { busy: number; total: number };
}

async function measurePoint(
  fleet: FleetSimulator,
  api: ControlPlaneApi,
  database: BenchDatabase,
  controlPlanePid: number,
): Promise<MeasurePoint> {
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
    controlPlaneCpu: processCpuSeconds(controlPlanePid),
    postgresCpu: namedProcessesCpuSeconds('postgres'),
    mosquittoCpu: namedProcessesCpuSeconds('mosquitto'),
    machine: machineCpuTicks(),
  };
}

async function waitUntilOnline(fleet: FleetSimulator, devices: number): Promise<void> {
  const deadline = Date.now() + 60_000 + devices * 20;
  for (;;) {
    const online = (await fleet.snapshot()).devices.filter((device) => device.online).length;
    if (online === devices) return;
    if (Date.now() > deadline) throw new Error(`only ${online} of ${devices} simulated devices came online`);
    await sleep(1000);
  }
}

/** Events created and not yet acknowledged, over the fleet. */
const backlog = (snapshot: FleetSnapshot): number =>
  sumCounters(snapshot, (device) => Math.max(0, device.appendedSeq - device.acknowledgedSeq));

/** Waits until the fleet's unacknowledged events are at most `limit`; false after `timeoutMs`. */
async function waitForBacklogBelow(
  fleet: FleetSimulator,
  limit: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (backlog(await fleet.snapshot()) <= limit) return true;
    await sleep(1000);
  }
  return false;
}

/** Seconds until every device's acknowledged seq reached what it had created at `end`; undefined on time-out. */
async function drainAcknowledgements(
  fleet: FleetSimulator,
  end: FleetSnapshot,
  timeoutSeconds: number,
): Promise<number | undefined> {
  const created = new Map(end.devices.map((device) => [device.deviceId, device.appendedSeq]));
  for (;;) {
    const snapshot = await fleet.snapshot();
    const behind = snapshot.devices.filter(
      (device) => device.acknowledgedSeq < (created.get(device.deviceId) ?? 0),
    ).length;
    const seconds = (snapshot.at - end.at) / 1000;
    if (behind === 0) return seconds;
    if (seconds > timeoutSeconds) return undefined;
    await sleep(500);
  }
}

/** Waits until the stored telemetry count reaches `published` or stops changing (the last flush is done). */
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
  options: IngestBenchOptions,
  cleanup: CleanupStack,
  workDirectory: string,
): Promise<IngestBenchResult> {
  const suffix = randomBytes(4).toString('hex');
  const fleetDirectory = mkdtempSync(
    join(existsSync(SHARED_MEMORY) ? SHARED_MEMORY : tmpdir(), 'emofleet-fleet-'),
  );
  cleanup.add('removing the fleet directory', () => rmSync(fleetDirectory, { recursive: true, force: true }));
  const topicPrefix = `emofleet-bench-${suffix}/v1`;
  const queuePrefix = `bench-${suffix}`;
  const adminToken = `emf_bench_${randomBytes(24).toString('base64url')}`;

  const database = await BenchDatabase.create(SERVICES.postgresUrl);
  cleanup.add('dropping the database', () => database.drop());
  cleanup.add('deleting the queue keys', () => deleteQueueKeys(SERVICES.redisUrl, queuePrefix));
  cleanup.add('clearing retained messages', () => clearRetainedMessages(SERVICES.mqttUrl, topicPrefix));
  progress(`database ${new URL(database.url).pathname.slice(1)}, topic prefix ${topicPrefix}`);

  const controlPlane = await ControlPlaneProcess.start(
    {
      EMOFLEET_ROLE: 'all',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      REDIS_URL: SERVICES.redisUrl,
      MQTT_URL: SERVICES.mqttUrl,
      MQTT_TOPIC_PREFIX: topicPrefix,
      MQTT_SHARED_GROUP: `bench-${suffix}`,
      QUEUE_PREFIX: queuePrefix,
      EMOFLEET_DATA_DIR: join(workDirectory, 'control-plane'),
      EMOFLEET_ADMIN_TOKEN: adminToken,
      EMOFLEET_DEMO: '0',
      LOG_LEVEL: 'warn',
    },
    join(workDirectory, 'control-plane.log'),
  );
  cleanup.add('stopping the control plane', () => controlPlane.stop());
  const controlPlanePid = controlPlane.pid ?? 0;
  const api = new ControlPlaneApi(controlPlane.httpUrl, adminToken);
  progress(`control plane ready at ${controlPlane.httpUrl} (pid ${controlPlanePid})`);

  const devices = simulatedFleet(options.devices, options.latencySample);
  await database.provisionDevices(devices);
  const sampleDeviceIds = devices.filter((device) => 'latency-sample' in device.tags).map((d) => d.id);

  progress(`starting ${options.devices} simulated agents`);
  const { fleet, startupMs } = await FleetSimulator.start({
    count: options.devices,
    idPrefix: FLEET_ID_PREFIX,
    secret: 'simulated',
    mqttUrl: SERVICES.mqttUrl,
    topicPrefix,
    dataDir: fleetDirectory,
    fps: options.fps,
    expressionSeconds: 1 / options.eventRate,
    telemetryIntervalMs: TELEMETRY_INTERVAL_MS,
    logFile: join(workDirectory, 'agents.log'),
  });
  cleanup.add('ending the fleet process', () => fleet.kill());
  const sampler = await QueryableLatencySampler.start({
    mqttUrl: SERVICES.mqttUrl,
    topics: new TopicScheme(topicPrefix),
    sampleDeviceIds,
    sampleTag: LATENCY_SAMPLE_SELECTOR,
    api,
    pollIntervalMs: LATENCY_POLL_INTERVAL_MS,
  });
  cleanup.add('closing the latency sampler', () => sampler.close());
  await waitUntilOnline(fleet, options.devices);
  // Until every device has finished its first expressions, the event rate is still climbing.
  const warmUpMs = Math.min(30_000, Math.max(5000, 2000 / options.eventRate));
  progress(`all ${options.devices} agents online (started in ${startupMs} ms); warming up ${warmUpMs} ms`);
  await sleep(warmUpMs);
  // Start from a steady state: events created while the fleet was starting may still be queued.
  const caughtUp = await waitForBacklogBelow(
    fleet,
    options.devices * options.eventRate * 3,
    CATCH_UP_TIMEOUT_MS,
  );
  if (!caughtUp)
    progress(`the control plane did not catch up within ${CATCH_UP_TIMEOUT_MS} ms; measuring anyway`);

  progress(`measuring for ${options.durationSeconds} s`);
  const start = await measurePoint(fleet, api, database, controlPlanePid);
  sampler.recording = true;
  await sleep(options.durationSeconds * 1000);
  sampler.recording = false;
  const end = await measurePoint(fleet, api, database, controlPlanePid);

  progress('waiting for every event of the window to be acknowledged');
  const [drainSeconds, latencies] = await Promise.all([
    drainAcknowledgements(fleet, end.fleet, options.drainTimeoutSeconds),
    // As long as the drain: a backlog makes the latency long, not unmeasurable.
    sampler.finish(options.drainTimeoutSeconds * 1000),
  ]);
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
  const atStop = new Map(stopped.devices.map((device) => [device.deviceId, device]));
  const eventStorage = await database.checkEventStorage(() =>
    end.fleet.devices.map((device) => ({
      deviceId: device.deviceId,
      appendedAtMeasurementEnd: device.appendedSeq,
      appendedAtStop: atStop.get(device.deviceId)?.appendedSeq ?? device.appendedSeq,
      acknowledgedAtStop: atStop.get(device.deviceId)?.acknowledgedSeq ?? 0,
    })),
  );
  const telemetryStorage = await database.checkTelemetryStorage(published);

  const universe = async (): Promise<QueryUniverse> => ({
    span: await database.storedEventSpan(),
    deviceIds: devices.map((device) => device.id),
    labels: [...SYNTHETIC_LABELS],
    sites: FLEET_SITES,
  });
  progress('timing GET /events on the events of the run');
  const beforeFill = await benchmarkEventQueries(api, await universe(), options.queriesPerShape);
  let afterFill;
  let rowsFilled = 0;
  let fillSeconds = 0;
  if (options.eventsFill > 0) {
    const fillStarted = Date.now();
    rowsFilled = await database.fillEvents(
      options.eventsFill,
      { idPrefix: FLEET_ID_PREFIX, devices: options.devices },
      new Date(start.fleet.at),
      (added, toAdd) => progress(`synthetic fill: ${added} of ${toAdd} rows`),
    );
    fillSeconds = (Date.now() - fillStarted) / 1000;
    progress(`timing GET /events on ${options.eventsFill} rows`);
    afterFill = await benchmarkEventQueries(api, await universe(), options.queriesPerShape);
  }

  const fleetSeconds = (end.fleet.at - start.fleet.at) / 1000;
  const metricsSeconds = (end.metricsAt - start.metricsAt) / 1000;
  const cpuSeconds = (end.cpuAt - start.cpuAt) / 1000;
  const offered = (counter: (device: FleetSnapshot['devices'][number]) => number) =>
    (sumCounters(end.fleet, counter) - sumCounters(start.fleet, counter)) / fleetSeconds;
  const stored = (name: string) =>
    ((end.metrics.get(name) ?? 0) - (start.metrics.get(name) ?? 0)) / metricsSeconds;
  const machineTicks = end.machine.total - start.machine.total;
  return {
    options,
    machine: await describeBenchMachine(database),
    fleetStartupSeconds: startupMs / 1000,
    measuredSeconds: fleetSeconds,
    rates: {
      telemetryWindows: {
        nominal: (options.devices * 1000) / TELEMETRY_INTERVAL_MS,
        offered: offered((device) => device.telemetryPublished),
        stored: stored('emofleet_telemetry_samples_stored_total'),
      },
      events: {
        nominal: options.devices * options.eventRate,
        offered: offered((device) => device.appendedSeq),
        stored: stored('emofleet_events_stored_total'),
      },
      eventBatches: {
        nominal: undefined,
        offered: undefined,
        stored: stored('emofleet_event_batches_stored_total'),
      },
      acksPublished: {
        nominal: undefined,
        offered: undefined,
        stored: stored('emofleet_event_acks_published_total'),
      },
      duplicateEvents: {
        nominal: undefined,
        offered: undefined,
        stored: stored('emofleet_events_duplicate_total'),
      },
      databaseCommits: {
        nominal: undefined,
        offered: undefined,
        stored: (end.databaseCommits - start.databaseCommits) / metricsSeconds,
      },
    },
    cpuPercent: {
      controlPlane: ((end.controlPlaneCpu - start.controlPlaneCpu) / cpuSeconds) * 100,
      simulator: ((end.fleet.cpuSeconds - start.fleet.cpuSeconds) / fleetSeconds) * 100,
      postgres: (cpuSecondsBetween(start.postgresCpu, end.postgresCpu) / cpuSeconds) * 100,
      mosquitto: (cpuSecondsBetween(start.mosquittoCpu, end.mosquittoCpu) / cpuSeconds) * 100,
    },
    machineCoresBusy:
      machineTicks > 0 ? ((end.machine.busy - start.machine.busy) / machineTicks) * cpus().length : 0,
    simulatorRssBytes: end.fleet.rssBytes,
    simulatorEventLoopDelayMs: end.fleet.eventLoopDelayMs,
    latency: {
      pollIntervalMs: LATENCY_POLL_INTERVAL_MS,
      sampleDevices: sampleDeviceIds.length,
      events: summariseLatencies(latencies.eventsMs),
      eventsFromExpressionEnd: summariseLatencies(latencies.eventsFromExpressionEndMs),
      telemetry: summariseLatencies(latencies.telemetryMs),
      eventsNeverQueryable: latencies.eventsNeverQueryable,
      telemetryNeverShown: latencies.telemetryNeverShown,
      telemetryReplacedBeforeShown: latencies.telemetryReplacedBeforeShown,
      pollRequestsPerSecond: latencies.apiRequestsPerSecond,
    },
    unacknowledgedEvents: { atStart: backlog(start.fleet), atEnd: backlog(end.fleet) },
    drainSeconds,
    agentWarnings: stopped.agentWarnings,
    controlPlaneProblems: controlPlane.loggedProblems(),
    eventStorage,
    telemetryStorage,
    queries: { beforeFill, afterFill, rowsFilled, fillSeconds },
    problems: deliveryProblems(eventStorage, telemetryStorage, drainSeconds),
  };
}

runBenchMain({
  name: 'ingest',
  usage: INGEST_BENCH_USAGE,
  parse: parseIngestBenchOptions,
  isUsageError: (error): error is IngestBenchUsageError => error instanceof IngestBenchUsageError,
  run,
  format: formatIngestReport,
  passed: (result) => result.problems.length === 0,
  cleaningUp: 'control plane, fleet, retained messages, queues, database',
});
