import { Command, Option } from 'commander';
import { CONFIG_KEYS, ConfigError, loadAgentConfig, type ConfigKey, type RawConfig } from './config';
import { createJsonLogger } from './logger';
import { runAgent } from './run-agent';

export interface CliEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly agentVersion: string;
  /** Where signals come from; `process` in production. */
  readonly signals: Pick<NodeJS.Process, 'once' | 'removeListener'>;
  readonly writeError: (text: string) => void;
  readonly setExitCode: (code: number) => void;
}

const RUN_OPTION_HELP: Record<ConfigKey, string> = {
  mqttUrl: 'broker URL, e.g. mqtt://broker:1883 or mqtts://broker:8883',
  deviceId: 'device id (MQTT client id and username)',
  deviceSecret: 'device secret (visible in the process list: prefer the env variable or --secret-file)',
  deviceSecretFile: 'file whose first line is the device secret',
  dataDir: 'directory for the agent state (default $STATE_DIRECTORY or ~/.local/state/emofleet-agent)',
  topicPrefix: 'MQTT topic prefix (default emofleet/v1)',
  mqttVersion: 'MQTT protocol: 4 = 3.1.1, 5 = MQTT 5 (default 4)',
  keepaliveSeconds: 'MQTT keep-alive; the broker sends the last will after 1.5x this (default 30)',
  reconnectInitialMs: 'first reconnect backoff ceiling (default 1000)',
  reconnectMaxMs: 'largest reconnect delay (default 60000)',
  logLevel: 'debug, info, warn or error (default info)',
};

/** The `emofleet-agent` command line. */
export function buildCli(environment: CliEnvironment): Command {
  const program = new Command('emofleet-agent')
    .description('emofleet device agent: connects a Jetson (or any Linux box) to the emofleet control plane')
    .version(environment.agentVersion);

  const run = program
    .command('run')
    .description('connect to the broker and run until SIGTERM or SIGINT (flags win over env variables)');
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const { flag, env } = CONFIG_KEYS[key];
    run.addOption(new Option(`${flag} <value>`, `${RUN_OPTION_HELP[key]} [env: ${env}]`));
  }
  run.action(async (options: RawConfig) => {
    await runUntilSignal(options, environment);
  });
  return program;
}

async function runUntilSignal(flags: RawConfig, environment: CliEnvironment): Promise<void> {
  let config;
  try {
    config = await loadAgentConfig(flags, environment.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    environment.writeError(`${error.message}\n`);
    environment.setExitCode(2);
    return;
  }
  const logger = createJsonLogger(config.logLevel);
  const agent = await runAgent(config, environment.agentVersion, logger);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (received: NodeJS.Signals) => {
      environment.signals.removeListener('SIGTERM', onSignal);
      environment.signals.removeListener('SIGINT', onSignal);
      resolve(received);
    };
    environment.signals.once('SIGTERM', onSignal);
    environment.signals.once('SIGINT', onSignal);
  });
  logger.info('shutting down', { signal });
  await agent.stop();
  logger.info('stopped');
}
