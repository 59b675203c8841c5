import { join } from 'node:path';
import { type DeviceCounters, type FleetSnapshot } from './fleet-simulator-messages';
import { FleetSimulator } from './fleet-simulator';
import { FLEET_ID_PREFIX } from './simulated-fleet';

/** What every simulated device of a bench shares. */
export interface SimulatedDeviceSettings {
  mqttUrl: string;
  topicPrefix: string;
  dataDir: string;
  /** Each simulator process logs its agents' warnings to `<logDirectory>/agents-<first device>.log`. */
  logDirectory: string;
  /** The secret every device presents (to the broker, and to the API for artifact downloads). */
  secret: string;
  /** The control plane's manifest signing key, for devices that install rolled-out models (null: unchecked). */
  manifestPublicKey: string | null;
  fps: number;
  expressionSeconds: number;
  telemetryIntervalMs: number;
  devicesPerProcess: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The simulator processes of a bench run, read as one fleet of devices `bench-1` … `bench-N`. */
export class SimulatorFleet {
  readonly processes: FleetSimulator[] = [];

  get size(): number {
    return this.processes.length;
  }

  /** Starts simulator processes for devices `from`..`to` (numbers), `devicesPerProcess` each, in parallel. */
  async add(from: number, to: number, settings: SimulatedDeviceSettings): Promise<void> {
    const starts: Promise<unknown>[] = [];
    for (let first = from; first <= to; first += settings.devicesPerProcess) {
      starts.push(
        FleetSimulator.start(
          {
            count: Math.min(settings.devicesPerProcess, to - first + 1),
            idPrefix: FLEET_ID_PREFIX,
            firstNumber: first,
            secret: settings.secret,
            manifestPublicKey: settings.manifestPublicKey,
            mqttUrl: settings.mqttUrl,
            topicPrefix: settings.topicPrefix,
            dataDir: settings.dataDir,
            fps: settings.fps,
            expressionSeconds: settings.expressionSeconds,
            telemetryIntervalMs: settings.telemetryIntervalMs,
            logFile: join(settings.logDirectory, `agents-${first}.log`),
            staggerMs: 2,
          },
          // Registered at once, so `kill` ends it even when the run is interrupted while it starts.
          (process) => this.processes.push(process),
        ),
      );
    }
    await Promise.all(starts);
  }

  async snapshot(): Promise<FleetSnapshot> {
    return mergeSnapshots(await Promise.all(this.processes.map((process) => process.snapshot())));
  }

  async stop(): Promise<FleetSnapshot> {
    return mergeSnapshots(await Promise.all(this.processes.map((process) => process.stop())));
  }

  kill(): void {
    for (const process of this.processes) process.kill();
  }

  /**
   * Waits until `target` devices are online (counted every second, a progress line every 15 s); answers the
   * seconds since `since` it took, or undefined at the time-out.
   */
  async waitUntilConnected(
    target: number,
    since: number,
    timeoutSeconds: number,
    progress: (line: string) => void,
  ): Promise<{ connected: number; seconds: number | undefined; elapsedSeconds: number }> {
    let lastReport = Date.now();
    for (;;) {
      const connected = onlineDevices(await this.snapshot());
      const seconds = (Date.now() - since) / 1000;
      if (connected >= target) return { connected, seconds, elapsedSeconds: seconds };
      if (seconds > timeoutSeconds) return { connected, seconds: undefined, elapsedSeconds: seconds };
      if (Date.now() - lastReport > 15_000) {
        progress(`${connected} of ${target} devices connected after ${seconds.toFixed(0)} s`);
        lastReport = Date.now();
      }
      await sleep(1000);
    }
  }
}

function mergeSnapshots(snapshots: readonly FleetSnapshot[]): FleetSnapshot {
  return {
    at: Math.max(0, ...snapshots.map((snapshot) => snapshot.at)),
    devices: snapshots.flatMap((snapshot) => snapshot.devices),
    cpuSeconds: snapshots.reduce((total, snapshot) => total + snapshot.cpuSeconds, 0),
    rssBytes: snapshots.reduce((total, snapshot) => total + snapshot.rssBytes, 0),
    agentWarnings: snapshots.reduce((total, snapshot) => total + snapshot.agentWarnings, 0),
    agentWarningMessages: sumCounts(snapshots.map((snapshot) => snapshot.agentWarningMessages)),
    eventLoopDelayMs: {
      p99: Math.max(0, ...snapshots.map((snapshot) => snapshot.eventLoopDelayMs.p99)),
      max: Math.max(0, ...snapshots.map((snapshot) => snapshot.eventLoopDelayMs.max)),
    },
  };
}

function sumCounts(counts: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const total: Record<string, number> = {};
  for (const count of counts)
    for (const [key, value] of Object.entries(count)) total[key] = (total[key] ?? 0) + value;
  return total;
}

/** The agents' warning lines, most frequent message first: `896 model download failed; trying again`, …. */
export function describeAgentWarnings(messages: Record<string, number>, top = 3): string {
  const entries = Object.entries(messages).sort(([, a], [, b]) => b - a);
  const shown = entries.slice(0, top).map(([message, count]) => `${count} ${message}`);
  if (entries.length > top) shown.push(`${entries.length - top} other messages`);
  return shown.join(', ');
}

/** The sum of one counter over the fleet. */
export const sumCounters = (snapshot: FleetSnapshot, counter: (device: DeviceCounters) => number): number =>
  snapshot.devices.reduce((total, device) => total + counter(device), 0);

/** Events created but not yet acknowledged by the control plane, over the fleet. */
export const unacknowledgedEvents = (snapshot: FleetSnapshot): number =>
  sumCounters(snapshot, (device) => Math.max(0, device.appendedSeq - device.acknowledgedSeq));

export const onlineDevices = (snapshot: FleetSnapshot): number =>
  snapshot.devices.filter((device) => device.online).length;
