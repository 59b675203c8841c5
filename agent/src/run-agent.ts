import { TopicScheme } from '@emofleet/protocol';
import { type AgentConfig } from './config';
import { DeviceConnection, probeDeviceCapabilities, type ConnectionStatus } from './connection';
import { type Logger } from './logger';

export interface RunningAgent {
  readonly connection: DeviceConnection;
  /** Publishes the offline state, disconnects and releases everything. */
  stop(): Promise<void>;
}

/** Starts the agent's long-lived parts. Today: the broker connection (birth, state, last will, reconnects). */
export async function runAgent(
  config: AgentConfig,
  agentVersion: string,
  logger: Logger,
): Promise<RunningAgent> {
  const capabilities = await probeDeviceCapabilities({ detectorBackends: [], simulated: false });
  logger.info('starting emofleet agent', {
    agentVersion,
    deviceId: config.deviceId,
    mqttUrl: config.mqttUrl,
    dataDir: config.dataDir,
    capabilities,
  });
  const connection = new DeviceConnection({
    url: config.mqttUrl,
    deviceId: config.deviceId,
    secret: config.deviceSecret,
    dataDir: config.dataDir,
    topics: new TopicScheme(config.topicPrefix),
    protocolVersion: config.mqttVersion,
    keepaliveSeconds: config.keepaliveSeconds,
    reconnect: { initialDelayMs: config.reconnectInitialMs, maxDelayMs: config.reconnectMaxMs },
    birth: () => ({ agentVersion, capabilities, runningModel: null }),
    logger,
  });
  connection.onStatusChange((status: ConnectionStatus) => logger.debug('connection status', { status }));
  connection.start();
  return {
    connection,
    stop: () => connection.stop(),
  };
}
