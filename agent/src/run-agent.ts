import { type AgentConfig } from './config';
import { probeDeviceCapabilities } from './connection';
import { startDeviceAgent, type DeviceAgent, type DeviceAgentOptions } from './device-agent';
import { nativeDetectorBackends } from './detector';
import { resolveBuilderCommand, withEngineBuilderCapabilities } from './engine-builder';
import { type Logger } from './logger';
import { nativeModelLoader, syntheticModelLoader } from './reconcile';
import { frameSourceFromSpec } from './sources';

export type RunningAgent = DeviceAgent;

/** Parts a caller may replace (tests run the real agent with a model loader or unpacker they control). */
export type AgentReplacements = Partial<Pick<DeviceAgentOptions, 'loader' | 'unpackBundle'>>;

/** Starts the agent of this device from its configuration (`emofleet-agent run`). */
export async function runAgent(
  config: AgentConfig,
  agentVersion: string,
  logger: Logger,
  replacements: AgentReplacements = {},
): Promise<RunningAgent> {
  const detectorBackends = config.detector === 'synthetic' ? ['synthetic'] : nativeDetectorBackends();
  const engineBuilderCommand = resolveBuilderCommand(config.engineBuilder, process.env);
  const capabilities = withEngineBuilderCapabilities(
    await probeDeviceCapabilities({ detectorBackends, simulated: false }),
    engineBuilderCommand,
    config.claimDeviceClass,
  );
  logger.info('starting emofleet agent', {
    agentVersion,
    deviceId: config.deviceId,
    mqttUrl: config.mqttUrl,
    dataDir: config.dataDir,
    source: config.source,
    capabilities,
    engineBuilderCommand,
  });
  if (config.claimDeviceClass !== null) {
    logger.warn('claiming a device class from --claim-device-class (meant for tests, not for real devices)', {
      claim: config.claimDeviceClass,
    });
  }
  if (config.manifestPublicKey === null) {
    logger.warn(
      'no manifest public key pinned (not enrolled with `emofleet-agent enroll`): every model will be refused',
    );
  }
  return startDeviceAgent({
    agentVersion,
    deviceId: config.deviceId,
    deviceSecret: config.deviceSecret,
    mqttUrl: config.mqttUrl,
    topicPrefix: config.topicPrefix,
    mqttVersion: config.mqttVersion,
    keepaliveSeconds: config.keepaliveSeconds,
    reconnect: { initialDelayMs: config.reconnectInitialMs, maxDelayMs: config.reconnectMaxMs },
    dataDir: config.dataDir,
    manifestPublicKey: config.manifestPublicKey,
    caCertificate: config.caCertificate,
    capabilities,
    engineBuilderCommand,
    loader: config.detector === 'synthetic' ? syntheticModelLoader() : nativeModelLoader(),
    source:
      config.source === null
        ? undefined
        : frameSourceFromSpec(config.source, {
            width: config.frameWidth,
            height: config.frameHeight,
            fps: config.fps,
          }),
    frameWidth: config.frameWidth,
    frameHeight: config.frameHeight,
    tracker: { minScore: config.minScore, minDurationMs: config.minDurationMs },
    spool: { maxBytes: config.spoolMaxBytes, fsync: { mode: 'interval', intervalMs: 200 } },
    telemetryIntervalMs: config.telemetryIntervalMs,
    thermalRoot: '/sys/class/thermal',
    tegrastats: true,
    logger,
    ...replacements,
  });
}
