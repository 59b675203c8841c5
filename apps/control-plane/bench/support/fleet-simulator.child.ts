/**
 * The simulated fleet, in its own process (forked by `FleetSimulator`): N agents of `agent/src/simulator.ts` with
 * the real connection, spool, publisher and telemetry code. Every device starts with a synthetic model already
 * installed in its slot A (as a device that took part in an earlier rollout), so its detection loop produces
 * events from the first frame. Answers snapshot and stop requests with the agents' own counters.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  createJsonLogger,
  type DeviceAgent,
  SlotStore,
  startSimulation,
  type RunningSimulation,
} from '@emofleet/agent';
import { type ModelManifest } from '@emofleet/protocol';
import {
  type FleetSimulatorSettings,
  type FleetSnapshot,
  type SimulatorReply,
  type SimulatorRequest,
} from './fleet-simulator-messages';

const INSTALLED_MODEL: ModelManifest = {
  modelId: 'bench-model',
  version: '1.0.0',
  format: 'darknet-bundle',
  sha256: createHash('sha256').update('emofleet ingest bench model').digest('hex'),
  sizeBytes: 1,
};

let simulation: RunningSimulation | undefined;
/** The agents started so far, each counted by snapshots from its start (a thousand take a minute to start). */
const startedAgents: DeviceAgent[] = [];
let agentWarnings = 0;
const agentWarningMessages: Record<string, number> = {};
const eventLoopDelay = monitorEventLoopDelay({ resolution: 10 });
eventLoopDelay.enable();

function reply(message: SimulatorReply, then?: () => void): void {
  process.send?.(message, undefined, {}, () => then?.());
}

/** Writes slot A and the `current` pointer the way a finished model switch leaves them. */
function installSyntheticModel(deviceDirectory: string): void {
  const slots = new SlotStore(path.join(deviceDirectory, 'models'));
  slots.clearSlot('a');
  slots.markInstalled('a', INSTALLED_MODEL.sha256);
  slots.writePointer({
    ...slots.readPointer(),
    current: {
      ...INSTALLED_MODEL,
      slot: 'a',
      desiredVersion: 1,
      installedAt: Date.now(),
      measuredFps: null,
      measuredAccuracy: null,
      measuredMap50: null,
    },
    handledDesiredVersion: 1,
  });
}

async function start(settings: FleetSimulatorSettings): Promise<void> {
  const started = Date.now();
  const firstNumber = settings.firstNumber ?? 1;
  const deviceIds = Array.from(
    { length: settings.count },
    (_, index) => `${settings.idPrefix}-${firstNumber + index}`,
  );
  for (const deviceId of deviceIds) installSyntheticModel(path.join(settings.dataDir, deviceId));
  const log = createWriteStream(settings.logFile, { flags: 'a' });
  simulation = await startSimulation({
    count: settings.count,
    idPrefix: settings.idPrefix,
    secret: settings.secret,
    devices: deviceIds.map((deviceId) => ({ deviceId, secret: settings.secret })),
    mqttUrl: settings.mqttUrl,
    topicPrefix: settings.topicPrefix,
    mqttVersion: 4,
    dataDir: settings.dataDir,
    manifestPublicKey: settings.manifestPublicKey ?? null,
    fps: settings.fps,
    expressionSeconds: settings.expressionSeconds,
    telemetryIntervalMs: settings.telemetryIntervalMs,
    agentVersion: 'bench',
    ...(settings.staggerMs === undefined ? {} : { staggerMs: settings.staggerMs }),
    onAgentStarted: (agent) => startedAgents.push(agent),
    logger: createJsonLogger('warn', (line) => {
      agentWarnings += 1;
      const message = messageOf(line);
      agentWarningMessages[message] = (agentWarningMessages[message] ?? 0) + 1;
      log.write(line);
    }),
  });
  reply({ type: 'started', startupMs: Date.now() - started });
}

function snapshot(): FleetSnapshot {
  const cpu = process.cpuUsage();
  return {
    at: Date.now(),
    devices: startedAgents.map((agent) => {
      const spool = agent.spool.stats;
      return {
        deviceId: agent.deviceId,
        online: agent.connection.status === 'online',
        appendedSeq: spool.nextSeq - 1,
        acknowledgedSeq: spool.acknowledgedSeq,
        droppedEvents: spool.droppedTotal,
        telemetryPublished: agent.telemetry.published,
      };
    }),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssBytes: process.memoryUsage().rss,
    agentWarnings,
    agentWarningMessages: { ...agentWarningMessages },
    eventLoopDelayMs: takeEventLoopDelay(),
  };
}

/** The `message` of a JSON log line (the line itself, cut, when it is not one). */
function messageOf(line: string): string {
  try {
    const parsed: unknown = JSON.parse(line);
    const message = (parsed as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: counted by its beginning
  }
  return line.slice(0, 80);
}

function takeEventLoopDelay(): { p99: number; max: number } {
  const delay = { p99: eventLoopDelay.percentile(99) / 1e6, max: eventLoopDelay.max / 1e6 };
  eventLoopDelay.reset();
  return delay;
}

async function handle(request: SimulatorRequest): Promise<void> {
  switch (request.type) {
    case 'start':
      return start(request.settings);
    case 'snapshot':
      return reply({ type: 'snapshot', requestId: request.requestId, snapshot: snapshot() });
    case 'stop':
      await simulation?.stop();
      return reply({ type: 'stopped', requestId: request.requestId, snapshot: snapshot() }, () =>
        process.exit(0),
      );
  }
}

process.on('message', (request: SimulatorRequest) => {
  handle(request).catch((error: unknown) =>
    reply({
      type: 'failed',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    }),
  );
});
