import * as path from 'node:path';
import { type DeviceCapabilities, type MqttProtocolVersion } from '@emofleet/protocol';
import { probeDeviceCapabilities } from './connection';
import { nativeDetectorBackends } from './detector';
import { startDeviceAgent, type DeviceAgent } from './device-agent';
import { type Logger } from './logger';
import { nativeModelLoader, syntheticModelLoader, type PreinstalledModel } from './reconcile';
import { frameSourceFromSpec, SyntheticFrameSource, type FrameSource } from './sources';

/** One simulated device's identity (e.g. from an enrolment). */
export interface SimulatedDevice {
  readonly deviceId: string;
  readonly secret: string;
}

/**
 * What the simulated cameras see and run. `synthetic` (the default): tiny synthetic frames and the synthetic
 * detector, nearly free. `native`: every device decodes `source` (e.g. `file:demo.mp4?loop`) at `frameWidth` x
 * `frameHeight` and runs the real native detector on it.
 */
export type SimulatedCamera =
  | { readonly detector: 'synthetic' }
  | {
      readonly detector: 'native';
      readonly source: string;
      readonly frameWidth: number;
      readonly frameHeight: number;
      /** Inference threads per device (default 1). */
      readonly threads?: number;
    };

export interface SimulatorOptions {
  readonly count: number;
  /** Device ids are `<idPrefix>-<n>` (n from 1). */
  readonly idPrefix: string;
  readonly secret: string;
  /** Explicit identities (each with its own secret, e.g. enrolled ones) instead of count/idPrefix/secret. */
  readonly devices?: readonly SimulatedDevice[];
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
  readonly camera?: SimulatedCamera;
  /** Detections below this score are ignored by the tracker (default 0.5). */
  readonly minScore?: number;
  /** A local bundle every device runs until the control plane assigns another model. */
  readonly preinstalledModel?: PreinstalledModel;
  /** Called with each agent once it has started, before the rest have (a large fleet takes minutes to start). */
  readonly onAgentStarted?: (agent: DeviceAgent) => void;
}

function identities(options: SimulatorOptions): readonly SimulatedDevice[] {
  if (options.devices !== undefined) return options.devices;
  return Array.from({ length: options.count }, (_, index) => ({
    deviceId: `${options.idPrefix}-${index + 1}`,
    secret: options.secret,
  }));
}

export interface RunningSimulation {
  readonly agents: readonly DeviceAgent[];
  stop(): Promise<void>;
}

/**
 * N device agents in one process with the real connection, reconcile, spool and telemetry code. The camera is
 * synthetic (tiny frames, synthetic detector) or a real frame source with the native detector. Births say
 * `simulated: true`; the reported RSS is the process's divided by N.
 */
export async function startSimulation(options: SimulatorOptions): Promise<RunningSimulation> {
  const camera = options.camera ?? { detector: 'synthetic' };
  const detectorBackends = camera.detector === 'native' ? nativeDetectorBackends() : ['synthetic'];
  if (camera.detector === 'native' && detectorBackends.length === 0) {
    throw new Error(
      'the native detector is not built (npx nx build detector); simulate it with the synthetic one',
    );
  }
  const probed = await probeDeviceCapabilities({ detectorBackends, simulated: true });
  const capabilities: DeviceCapabilities = { ...probed, detectorBackends, simulated: true };
  const loader =
    camera.detector === 'native'
      ? nativeModelLoader({ threads: camera.threads ?? 1 })
      : syntheticModelLoader({
          framesPerExpression: Math.max(1, Math.round(options.fps * (options.expressionSeconds ?? 3))),
        });
  const frames = (): { source: FrameSource; width: number; height: number } =>
    camera.detector === 'native'
      ? {
          source: frameSourceFromSpec(camera.source, {
            width: camera.frameWidth,
            height: camera.frameHeight,
            fps: options.fps,
          }),
          width: camera.frameWidth,
          height: camera.frameHeight,
        }
      : { source: new SyntheticFrameSource(32, 24, options.fps), width: 32, height: 24 };
  const agents: DeviceAgent[] = [];
  try {
    for (const { deviceId, secret } of identities(options)) {
      const { source, width, height } = frames();
      const agent = await startDeviceAgent({
        agentVersion: options.agentVersion,
        deviceId,
        deviceSecret: secret,
        mqttUrl: options.mqttUrl,
        topicPrefix: options.topicPrefix,
        mqttVersion: options.mqttVersion,
        keepaliveSeconds: 60,
        reconnect: { initialDelayMs: 1000, maxDelayMs: 60_000 },
        dataDir: path.join(options.dataDir, deviceId),
        manifestPublicKey: options.manifestPublicKey,
        caCertificate: null,
        capabilities,
        loader,
        ...(options.preinstalledModel ? { preinstalledModel: options.preinstalledModel } : {}),
        source,
        frameWidth: width,
        frameHeight: height,
        tracker: { minScore: options.minScore ?? 0.5, minDurationMs: 500 },
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
      });
      agents.push(agent);
      options.onAgentStarted?.(agent);
      if ((options.staggerMs ?? 5) > 0)
        await new Promise((resolve) => setTimeout(resolve, options.staggerMs ?? 5));
    }
  } catch (error) {
    // Leave nothing running behind a failed start: the agents already started go offline cleanly.
    await Promise.allSettled(agents.map((agent) => agent.stop()));
    throw error;
  }
  return {
    agents,
    async stop() {
      await Promise.all(agents.map((agent) => agent.stop()));
    },
  };
}
