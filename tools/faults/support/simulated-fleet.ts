import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  probeDeviceCapabilities,
  startDeviceAgent,
  syntheticModelLoader,
  type DeviceAgent,
  type Logger,
  type LogFields,
  type NewEmotionEvent,
  startSimulation,
  type RunningSimulation,
  type SimulatedDevice,
} from '@emofleet/agent';

const LABELS = ['Happiness', 'Sadness', 'Surprise', 'Anger'];

/** The devices' warnings and errors (one logger for all of them), the last `limit` kept for a failure report. */
class RecentWarnings {
  readonly lines: string[] = [];
  readonly logger: Logger;

  constructor(private readonly limit = 40) {
    const record = (level: string) => (message: string, fields?: LogFields) => {
      const detail =
        fields === undefined
          ? ''
          : ` ${JSON.stringify(fields, (_key, value: unknown) => (value instanceof Error ? value.message : value))}`;
      this.lines.push(`${new Date().toISOString().slice(11, 23)} ${level} ${message}${detail}`);
      if (this.lines.length > this.limit) this.lines.shift();
    };
    this.logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: record('warn'),
      error: record('error'),
    };
  }
}

/**
 * The volume: N simulated devices in this process (`startSimulation`: the real connection, spool and publisher
 * code), whose spools get events the way the detection loop appends them, at a steady rate per device.
 * A simulated device runs its detector only once a model is installed; appending directly keeps the volume
 * independent of model rollouts.
 */
export class SimulatedFleet {
  private pump: NodeJS.Timeout | undefined;
  private round = 0;

  /** Agents without a camera that deliver what the simulation spooled (see `stopForGood`). */
  private drainAgents: DeviceAgent[] = [];

  private constructor(
    private readonly warnings: RecentWarnings,
    private readonly simulation: RunningSimulation,
    private readonly directory: string,
    private readonly identities: readonly SimulatedDevice[],
    private readonly connection: { mqttUrl: string; mqttVersion: 4 | 5; manifestPublicKey: string | null },
  ) {}

  /** Device ids in the order of `simulation.agents`. */
  get deviceIds(): string[] {
    return this.identities.map((identity) => identity.deviceId);
  }

  /**
   * Starts `count` devices named `<idPrefix>-<n>` (not enrolled: they can send events but install no model), or
   * the enrolled `devices` with the manifest key, which install the models the control plane assigns.
   */
  static async start(options: {
    count: number;
    idPrefix: string;
    mqttUrl: string;
    mqttVersion: 4 | 5;
    enrolled?: { devices: readonly SimulatedDevice[]; manifestPublicKey: string };
  }): Promise<SimulatedFleet> {
    const directory = mkdtempSync(join(tmpdir(), 'emofleet-faults-simulated-'));
    const warnings = new RecentWarnings();
    const simulation = await startSimulation({
      count: options.count,
      idPrefix: options.idPrefix,
      secret: 'anonymous-broker',
      ...(options.enrolled ? { devices: options.enrolled.devices } : {}),
      mqttUrl: options.mqttUrl,
      topicPrefix: 'emofleet/v1',
      mqttVersion: options.mqttVersion,
      dataDir: directory,
      manifestPublicKey: options.enrolled?.manifestPublicKey ?? null,
      fps: 1,
      telemetryIntervalMs: 5000,
      agentVersion: 'faults',
      logger: warnings.logger,
      staggerMs: 2,
    });
    // The simulator names devices without an identity `<prefix>-<n>`.
    const identities = simulation.agents.map(
      (_, index) =>
        options.enrolled?.devices[index] ?? {
          deviceId: `${options.idPrefix}-${index + 1}`,
          secret: 'anonymous-broker',
        },
    );
    return new SimulatedFleet(warnings, simulation, directory, identities, {
      mqttUrl: options.mqttUrl,
      mqttVersion: options.mqttVersion,
      manifestPublicKey: options.enrolled?.manifestPublicKey ?? null,
    });
  }

  /** Appends one event to every device's spool every `intervalMs`. */
  generate(intervalMs: number): void {
    this.stopGenerating();
    this.pump = setInterval(() => {
      this.round += 1;
      for (const agent of this.simulation.agents) agent.spool.append(syntheticEvent(this.round));
    }, intervalMs);
  }

  stopGenerating(): void {
    if (this.pump !== undefined) clearInterval(this.pump);
    this.pump = undefined;
  }

  /** Per device id, the highest seq its spool assigned. */
  generated(): Map<string, number> {
    return this.perDevice((agent) => agent.spool.stats.nextSeq - 1);
  }

  /** Per device id, the highest seq the control plane acknowledged. */
  acknowledged(): Map<string, number> {
    return this.perDevice((agent) => agent.spool.stats.acknowledgedSeq);
  }

  /**
   * Ends generation for good: stops every device (an enrolled device that installed a model also detects on its
   * synthetic camera; stopping flushes its tracker into the spool), reads the highest seq each assigned, and
   * starts the devices again without a camera, so they deliver what they hold and generate nothing more.
   */
  async stopForGood(): Promise<Map<string, number>> {
    this.stopGenerating();
    await this.simulation.stop();
    const generated = this.perDevice((agent) => agent.spool.stats.nextSeq - 1);
    const capabilities = await probeDeviceCapabilities({ detectorBackends: ['synthetic'], simulated: true });
    for (const { deviceId, secret } of this.identities) {
      this.drainAgents.push(
        await startDeviceAgent({
          agentVersion: 'faults',
          deviceId,
          deviceSecret: secret,
          mqttUrl: this.connection.mqttUrl,
          topicPrefix: 'emofleet/v1',
          mqttVersion: this.connection.mqttVersion,
          keepaliveSeconds: 60,
          reconnect: { initialDelayMs: 1000, maxDelayMs: 60_000 },
          dataDir: join(this.directory, deviceId),
          manifestPublicKey: this.connection.manifestPublicKey,
          caCertificate: null,
          capabilities,
          loader: syntheticModelLoader(),
          source: undefined,
          frameWidth: 32,
          frameHeight: 24,
          tracker: { minScore: 0.5, minDurationMs: 500 },
          // The simulator's spool settings (agent/src/simulator.ts).
          spool: {
            maxBytes: 1024 * 1024,
            segmentBytes: 64 * 1024,
            fsync: { mode: 'interval', intervalMs: 1000 },
          },
          telemetryIntervalMs: 5000,
          thermalRoot: null,
          tegrastats: false,
          logger: this.warnings.logger,
        }),
      );
    }
    return generated;
  }

  /**
   * For a failure report: the devices whose spool holds unacknowledged events (connection status, acknowledged
   * and highest seq, first five), and the devices' last warnings (re-sends, publish failures).
   */
  describe(): string {
    const agents = this.drainAgents.length > 0 ? this.drainAgents : this.simulation.agents;
    const behind = agents
      .map((agent, index) => ({ agent, deviceId: this.identities[index]?.deviceId ?? '' }))
      .filter(({ agent }) => agent.spool.stats.acknowledgedSeq < agent.spool.stats.nextSeq - 1)
      .slice(0, 5)
      .map(({ agent, deviceId }) => {
        const { acknowledgedSeq, nextSeq, depth, unwritten } = agent.spool.stats;
        return `${deviceId}: ${agent.connection.status}, acknowledged ${acknowledgedSeq}, highest seq ${nextSeq - 1}, depth ${depth}, unwritten ${unwritten}`;
      });
    return [
      `simulated devices behind (first 5):\n${behind.join('\n') || 'none'}`,
      `simulated devices' last warnings:\n${this.warnings.lines.join('\n') || 'none'}`,
    ].join('\n');
  }

  private perDevice(value: (agent: DeviceAgent) => number): Map<string, number> {
    return new Map(
      this.simulation.agents.map((agent, index) => [this.identities[index]?.deviceId ?? '', value(agent)]),
    );
  }

  async dispose(): Promise<void> {
    this.stopGenerating();
    await this.simulation.stop();
    await Promise.all(this.drainAgents.map((agent) => agent.stop()));
    rmSync(this.directory, { recursive: true, force: true });
  }
}

function syntheticEvent(round: number): NewEmotionEvent {
  return {
    label: LABELS[round % LABELS.length] ?? 'Happiness',
    score: 0.6 + (round % 4) / 10,
    box: { x: 0.2, y: 0.2, width: 0.3, height: 0.3 },
    startedAt: Date.now(),
    durationMs: 1200,
    frameIndex: round * 30,
    modelId: 'simulated',
    trackId: round,
  };
}
