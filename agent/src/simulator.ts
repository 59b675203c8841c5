import * as path from 'node:path';
import { type DeviceCapabilities, type MqttProtocolVersion } from '@emofleet/protocol';
import { probeDeviceCapabilities } from './connection';
import { startDeviceAgent, type DeviceAgent } from './device-agent';
import { type Logger } from './logger';
import { syntheticModelLoader } from './reconcile';
import { SyntheticFrameSource } from './sources';

export interface SimulatorOptions {
  readonly count: number;
  /** Device ids are `<idPrefix>-<n>` (n from 1). */
  readonly idPrefix: string;
  readonly secret: string;
  readonly mqttUrl: string;
  readonly topicPrefix: string;
  readonly mqttVersion: MqttProtocolVersion;
  /** Each simulated device keeps its state in `<dataDir>/<device id>`. */
  readonly dataDir: string;
  readonly manifestPublicKey: string | null;
  readonly fps: number;
  /** How long each synthetic expression lasts (default 3 s). */
  readonly expressionSeconds?: number;
  readonly telemetryIntervalMs: number;
  readonly agentVersion: string;
  readonly logger: Logger;
  /** Delay between starting two agents, so a thousand do not connect in the same millisecond. */
  readonly staggerMs?: number;
}

export interface RunningSimulation {
  readonly agents: readonly DeviceAgent[];
  stop(): Promise<void>;
}

/**
 * N device agents in one process with the real connection, reconcile, spool and telemetry code, a synthetic
 * frame source (tiny frames) and the synthetic detector. Births say `simulated: true`; the reported RSS is the
 * process's divided by N.
 */
export async function startSimulation(options: SimulatorOptions): Promise<RunningSimulation> {
  const probed = await probeDeviceCapabilities({ detectorBackends: ['synthetic'], simulated: true });
  const capabilities: DeviceCapabilities = { ...probed, detectorBackends: ['synthetic'], simulated: true };
  const agents: DeviceAgent[] = [];
  for (let n = 1; n <= options.count; n += 1) {
    const deviceId = `${options.idPrefix}-${n}`;
    agents.push(
      await startDeviceAgent({
        agentVersion: options.agentVersion,
        deviceId,
        deviceSecret: options.secret,
        mqttUrl: options.mqttUrl,
        topicPrefix: options.topicPrefix,
        mqttVersion: options.mqttVersion,
        keepaliveSeconds: 60,
        reconnect: { initialDelayMs: 1000, maxDelayMs: 60_000 },
        dataDir: path.join(options.dataDir, deviceId),
        manifestPublicKey: options.manifestPublicKey,
        caCertificate: null,
        capabilities,
        loader: syntheticModelLoader({
          framesPerExpression: Math.max(1, Math.round(options.fps * (options.expressionSeconds ?? 3))),
        }),
        source: new SyntheticFrameSource(32, 24, options.fps),
        frameWidth: 32,
        frameHeight: 24,
        tracker: { minScore: 0.5, minDurationMs: 500 },
        spool: {
          maxBytes: 1024 * 1024,
          segmentBytes: 64 * 1024,
          fsync: { mode: 'interval', intervalMs: 1000 },
        },
        telemetryIntervalMs: options.telemetryIntervalMs,
        thermalRoot: null,
        tegrastats: false,
        rssBytes: () => Math.round(process.memoryUsage().rss / Math.max(1, agents.length)),
        logger: options.logger,
      }),
    );
    if ((options.staggerMs ?? 5) > 0)
      await new Promise((resolve) => setTimeout(resolve, options.staggerMs ?? 5));
  }
  return {
    agents,
    async stop() {
      await Promise.all(agents.map((agent) => agent.stop()));
    },
  };
}
