import * as path from 'node:path';
import { TopicScheme, type DeviceCapabilities, type MqttProtocolVersion } from '@emofleet/protocol';
import { DeviceConnection, DeviceOfflineError, type BirthContent } from './connection';
import { type DetectorAdapter } from './detector';
import { EngineBuilder } from './engine-builder';
import { type Logger } from './logger';
import { DetectionLoop } from './pipeline';
import { ModelReconciler, preinstallModel, type ModelLoader, type PreinstalledModel } from './reconcile';
import { SlotStore } from './slots';
import { type FrameSource } from './sources';
import { EventPublisher, EventSpool, type FsyncPolicy } from './spool';
import { FrameStatistics, TegrastatsMonitor, TelemetryReporter } from './telemetry';
import { ExpressionTracker, type ExpressionTrackerOptions } from './tracker';

export interface DeviceAgentOptions {
  readonly agentVersion: string;
  readonly deviceId: string;
  readonly deviceSecret: string;
  readonly mqttUrl: string;
  readonly topicPrefix: string;
  readonly mqttVersion: MqttProtocolVersion;
  readonly keepaliveSeconds: number;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly dataDir: string;
  readonly manifestPublicKey: string | null;
  readonly caCertificate: string | null;
  readonly capabilities: DeviceCapabilities;
  readonly loader: ModelLoader;
  /** A local bundle to run when the device has no model yet (the demo's simulated cameras). */
  readonly preinstalledModel?: PreinstalledModel;
  /** Unpacks a verified bundle into a slot (default: the reconciler's pure-JS tar reader). */
  readonly unpackBundle?: (archive: string, directory: string) => unknown;
  /** The command that runs `build-engine` jobs (trtexec, or a test double); null or absent: none. */
  readonly engineBuilderCommand?: string | null;
  /** Frames to run the detector on; undefined: the agent only manages models and reports telemetry. */
  readonly source: FrameSource | undefined;
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly tracker: ExpressionTrackerOptions;
  readonly spool: { readonly maxBytes: number; readonly segmentBytes?: number; readonly fsync: FsyncPolicy };
  readonly telemetryIntervalMs: number;
  /** Thermal zone root; null reads none (simulated agents). */
  readonly thermalRoot: string | null;
  /** Run tegrastats when present (one per machine: off for simulated agents). */
  readonly tegrastats: boolean;
  /** RSS to report; the process's own by default. */
  readonly rssBytes?: () => number;
  readonly logger: Logger;
}

export interface DeviceAgent {
  readonly deviceId: string;
  readonly connection: DeviceConnection;
  readonly spool: EventSpool;
  readonly reconciler: ModelReconciler;
  readonly frames: FrameStatistics;
  /** Telemetry windows published so far (`telemetry.published`). */
  readonly telemetry: TelemetryReporter;
  /** Stops frames, publishes the offline state, disconnects and closes the spool. */
  stop(): Promise<void>;
}

/**
 * Assembles one device agent: broker connection (birth, will, reconnect), model reconciliation (A/B slots), the
 * detection pipeline (source → detector → tracker → durable spool), the event publisher and telemetry.
 * `emofleet-agent run` starts one, `emofleet-agent simulate` many in one process.
 */
export async function startDeviceAgent(options: DeviceAgentOptions): Promise<DeviceAgent> {
  const { logger } = options;
  const spool = EventSpool.open({
    directory: path.join(options.dataDir, 'spool'),
    maxBytes: options.spool.maxBytes,
    segmentBytes: options.spool.segmentBytes ?? Math.min(1024 * 1024, Math.floor(options.spool.maxBytes / 8)),
    fsync: options.spool.fsync,
    logger,
  });
  const connection: DeviceConnection = new DeviceConnection({
    url: options.mqttUrl,
    deviceId: options.deviceId,
    secret: options.deviceSecret,
    dataDir: options.dataDir,
    topics: new TopicScheme(options.topicPrefix),
    protocolVersion: options.mqttVersion,
    keepaliveSeconds: options.keepaliveSeconds,
    caCertificate: options.caCertificate,
    reconnect: options.reconnect,
    birth: (): BirthContent => {
      const running = reconciler.runningModel ?? null;
      const lastRollback = reconciler.lastRollback;
      return {
        agentVersion: options.agentVersion,
        capabilities: options.capabilities,
        runningModel: running === null ? null : { modelId: running.modelId, version: running.version },
        ...(lastRollback === null ? {} : { lastRollback }),
      };
    },
    logger,
  });
  let detector: DetectorAdapter | undefined;
  const slots = new SlotStore(path.join(options.dataDir, 'models'));
  if (options.preinstalledModel !== undefined) preinstallModel(slots, options.preinstalledModel, logger);
  const reconciler: ModelReconciler = new ModelReconciler({
    deviceId: options.deviceId,
    deviceSecret: options.deviceSecret,
    dataDir: options.dataDir,
    slots,
    channel: connection,
    loader: options.loader,
    unpackBundle: options.unpackBundle,
    engineBuilder: new EngineBuilder({
      deviceId: options.deviceId,
      deviceSecret: options.deviceSecret,
      dataDir: options.dataDir,
      command: options.engineBuilderCommand ?? null,
      capabilities: options.capabilities,
      manifestPublicKey: options.manifestPublicKey,
      caCertificate: options.caCertificate,
      logger,
    }),
    manifestPublicKey: options.manifestPublicKey,
    caCertificate: options.caCertificate,
    healthCheck: { frameWidth: options.frameWidth, frameHeight: options.frameHeight },
    onModelChanged: (next) => {
      detector = next;
      connection.republishBirth().catch((error: unknown) => {
        if (!(error instanceof DeviceOfflineError)) logger.warn('could not republish the birth', { error });
      });
    },
    logger,
  });
  await reconciler.start();
  const frames = new FrameStatistics();
  const tegrastats = options.tegrastats ? new TegrastatsMonitor(logger) : undefined;
  tegrastats?.start();
  const publisher = new EventPublisher({ deviceId: options.deviceId, spool, channel: connection, logger });
  const telemetry = new TelemetryReporter({
    deviceId: options.deviceId,
    channel: connection,
    intervalMs: options.telemetryIntervalMs,
    logger,
    sources: {
      frames,
      spool: () => spool.stats,
      modelId: () => reconciler.runningModel?.modelId ?? null,
      accuracy: () => reconciler.accuracy ?? null,
      map50: () => reconciler.map50,
      tegrastats: () => tegrastats?.latest,
      thermalRoot: options.thermalRoot,
      rssBytes: options.rssBytes,
    },
  });
  const loop =
    options.source === undefined
      ? undefined
      : new DetectionLoop({
          source: options.source,
          detector: () => detector,
          tracker: new ExpressionTracker(options.tracker),
          spool,
          frames,
          logger,
        });
  publisher.start();
  connection.start();
  telemetry.start();
  loop?.start();
  return {
    deviceId: options.deviceId,
    connection,
    spool,
    reconciler,
    frames,
    telemetry,
    async stop() {
      await loop?.stop();
      telemetry.stop();
      tegrastats?.stop();
      publisher.stop();
      await reconciler.stop();
      await connection.stop();
      spool.close();
    },
  };
}
