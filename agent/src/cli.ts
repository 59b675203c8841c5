import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { DEFAULT_TOPIC_PREFIX, modelIdSchema, versionStringSchema } from '@emofleet/protocol';
import {
  CONFIG_KEYS,
  ConfigError,
  defaultDataDir,
  loadAgentConfig,
  type ConfigKey,
  type RawConfig,
} from './config';
import { probeDeviceCapabilities } from './connection';
import { nativeDetectorBackends } from './detector';
import { enrolDevice, enrolmentFilePath, readEnrolment, writeEnrolment } from './enrolment';
import { createJsonLogger, LOG_LEVELS, type LogLevel } from './logger';
import { runAgent } from './run-agent';
import { FRAME_SOURCE_FORMS } from './sources';
import { type PreinstalledModel } from './reconcile';
import {
  startSimulation,
  type SimulatedCamera,
  type SimulatedDevice,
  type SimulatorOptions,
} from './simulator';

export interface CliEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly agentVersion: string;
  /** Where signals come from; `process` in production. */
  readonly signals: Pick<NodeJS.Process, 'once' | 'removeListener'>;
  readonly writeError: (text: string) => void;
  readonly writeOutput: (text: string) => void;
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
  source: `frames: ${FRAME_SOURCE_FORMS} (default: none)`,
  frameSize: 'frame size the source is scaled to, <width>x<height> (default 416x416)',
  fps: 'frames per second taken from the source (default 15)',
  detector:
    'native (the @emofleet/detector addon) or synthetic (no inference; demos, tests) (default native)',
  minScore: 'ignore detections below this score (default 0.5)',
  minDurationMs: 'report expressions held at least this long (default 500)',
  spoolMaxBytes:
    'bound of the event spool on disk; the oldest events are dropped and declared beyond it (default 64 MiB)',
  telemetryIntervalMs: 'telemetry window length (default 5000)',
  engineBuilder:
    'command that builds TensorRT engines for build-engine jobs (default: /usr/src/tensorrt/bin/trtexec, else trtexec on PATH)',
  claimDeviceClass:
    'FOR TESTS ONLY: claim a device class, gpuArch=sm_53,tensorrt=8.2.1[,jetpack=4.6.1], instead of the probed one',
};

/** The `emofleet-agent` command line. */
export function buildCli(environment: CliEnvironment): Command {
  const program = new Command('emofleet-agent')
    .description('emofleet device agent: connects a Jetson (or any Linux box) to the emofleet control plane')
    .version(environment.agentVersion);

  const run = program
    .command('run')
    .description('connect to the broker and run until SIGTERM or SIGINT (flags win over env variables)');
  // Flags are named for people (`--secret`), config keys for code (`deviceSecret`): map commander's attribute
  // name of each flag back to its key.
  const keyOfAttribute = new Map<string, ConfigKey>();
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const { flag, env } = CONFIG_KEYS[key];
    const option = new Option(`${flag} <value>`, `${RUN_OPTION_HELP[key]} [env: ${env}]`);
    keyOfAttribute.set(option.attributeName(), key);
    run.addOption(option);
  }
  run.action(async (options: Record<string, string | undefined>) => {
    const raw: RawConfig = {};
    for (const [attribute, value] of Object.entries(options)) {
      const key = keyOfAttribute.get(attribute);
      if (key !== undefined && value !== undefined) raw[key] = value;
    }
    await runUntilSignal(raw, environment);
  });

  program
    .command('enroll')
    .description("exchange a one-time enrolment token for this device's identity, stored with mode 0600")
    .requiredOption('--server <url>', 'control plane URL, e.g. https://fleet.example.com')
    .requiredOption('--token <token>', 'one-time enrolment token from the control plane')
    .option('--name <name>', 'device name (default: the host name)')
    .option(
      '--data-dir <dir>',
      'where to store it (default $STATE_DIRECTORY or ~/.local/state/emofleet-agent)',
    )
    .option('--ca-file <file>', 'PEM CA to trust for an https control plane')
    .option('--force', 'replace an existing enrolment')
    .action(
      async (options: {
        server: string;
        token: string;
        name?: string;
        dataDir?: string;
        caFile?: string;
        force?: boolean;
      }) => {
        const dataDir = path.resolve(
          options.dataDir ?? environment.env.EMOFLEET_DATA_DIR ?? defaultDataDir(environment.env),
        );
        if (readEnrolment(dataDir) !== undefined && options.force !== true) {
          environment.writeError(
            `${enrolmentFilePath(dataDir)} exists: this device is enrolled (use --force to replace it)\n`,
          );
          environment.setExitCode(2);
          return;
        }
        const capabilities = await probeDeviceCapabilities({
          detectorBackends: nativeDetectorBackends(),
          simulated: false,
        });
        const record = await enrolDevice({
          server: options.server,
          token: options.token,
          name: options.name,
          capabilities,
          caCertificate: options.caFile === undefined ? undefined : await fs.readFile(options.caFile, 'utf8'),
        });
        writeEnrolment(dataDir, record);
        environment.writeOutput(`enrolled as ${record.deviceId}; stored in ${enrolmentFilePath(dataDir)}\n`);
      },
    );

  program
    .command('simulate')
    .description(
      'run N simulated agents in this process (real protocol, spool, reconcile, telemetry); synthetic cameras and ' +
        'detector, or --detector native on a real frame source',
    )
    .option('--count <n>', 'number of simulated devices (or --devices-file)')
    .requiredOption('--mqtt-url <url>', 'broker URL')
    .option('--id-prefix <prefix>', 'device ids are <prefix>-1 … <prefix>-N', 'sim')
    .option('--secret <secret>', 'MQTT password of every simulated device', 'simulated')
    .option(
      '--devices-file <file>',
      'JSON array of {"deviceId","secret"} (e.g. enrolled devices) instead of --count/--id-prefix/--secret',
    )
    .option('--topic-prefix <prefix>', 'MQTT topic prefix', DEFAULT_TOPIC_PREFIX)
    .option(
      '--data-dir <dir>',
      'state of the simulated devices',
      path.join(process.cwd(), 'simulated-devices'),
    )
    .option(
      '--manifest-public-key-file <file>',
      'PEM ed25519 key that signs manifests (else every model is refused)',
    )
    .option('--fps <n>', 'frames per second per device', '2')
    .option(
      '--detector <kind>',
      'synthetic (no inference) or native (the real detector on --source)',
      'synthetic',
    )
    .option('--source <spec>', `frames of every device with --detector native: ${FRAME_SOURCE_FORMS}`)
    .option('--frame-size <WxH>', 'frame size of --source', '640x480')
    .option('--threads <n>', 'inference threads per device with --detector native', '1')
    .option('--min-score <score>', 'ignore detections below this score', '0.5')
    .option(
      '--preinstall-bundle <tar>',
      'a darknet bundle every device runs until the control plane assigns one',
    )
    .option('--preinstall-model <id@version>', 'model id and version of --preinstall-bundle')
    .option('--telemetry-interval-ms <ms>', 'telemetry window', '5000')
    .option('--log-level <level>', 'debug, info, warn or error', 'warn')
    .action(async (options: SimulateOptions) => {
      const settings = await simulateSettings(options);
      if (typeof settings === 'string') {
        environment.writeError(`${settings}\n`);
        environment.setExitCode(2);
        return;
      }
      const logger = createJsonLogger(
        LOG_LEVELS.includes(options.logLevel as LogLevel) ? (options.logLevel as LogLevel) : 'warn',
      );
      const simulation = await startSimulation({
        ...settings,
        idPrefix: options.idPrefix,
        secret: options.secret,
        mqttUrl: options.mqttUrl,
        topicPrefix: options.topicPrefix,
        mqttVersion: 4,
        dataDir: path.resolve(options.dataDir),
        manifestPublicKey:
          options.manifestPublicKeyFile === undefined
            ? null
            : await fs.readFile(options.manifestPublicKeyFile, 'utf8'),
        telemetryIntervalMs: Number(options.telemetryIntervalMs),
        agentVersion: environment.agentVersion,
        logger,
      });
      environment.writeOutput(
        `${simulation.agents.length} simulated agents started; RSS ${Math.round(process.memoryUsage().rss / 1048576)} MiB\n`,
      );
      await waitForSignal(environment);
      await simulation.stop();
    });
  return program;
}

interface SimulateOptions {
  count?: string;
  mqttUrl: string;
  idPrefix: string;
  secret: string;
  devicesFile?: string;
  topicPrefix: string;
  dataDir: string;
  manifestPublicKeyFile?: string;
  fps: string;
  detector: string;
  source?: string;
  frameSize: string;
  threads: string;
  minScore: string;
  preinstallBundle?: string;
  preinstallModel?: string;
  telemetryIntervalMs: string;
  logLevel: string;
}

const simulatedDevicesSchema = z
  .array(z.object({ deviceId: z.string().min(1), secret: z.string().min(1) }))
  .min(1)
  .max(100_000);

/** The `simulate` flags checked and turned into simulator settings, or a message naming the bad flag. */
async function simulateSettings(
  options: SimulateOptions,
): Promise<
  Pick<SimulatorOptions, 'count' | 'devices' | 'fps' | 'camera' | 'minScore' | 'preinstalledModel'> | string
> {
  let devices: SimulatedDevice[] | undefined;
  let count = Number(options.count);
  if (options.devicesFile !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(await fs.readFile(options.devicesFile, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return `--devices-file ${options.devicesFile}: ${code === undefined ? 'not JSON' : `cannot read it (${code})`}`;
    }
    const parsed = simulatedDevicesSchema.safeParse(json);
    if (!parsed.success) {
      return `--devices-file ${options.devicesFile}: expected a non-empty array of {"deviceId","secret"}`;
    }
    devices = parsed.data;
    count = devices.length;
  } else if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    return `--count must be a whole number from 1 to 100000, got ${options.count ?? '(none)'}`;
  }
  const fps = Number(options.fps);
  if (!Number.isInteger(fps) || fps < 1 || fps > 240)
    return `--fps must be a whole number from 1 to 240, got ${options.fps}`;
  const minScore = Number(options.minScore);
  if (!(minScore >= 0 && minScore <= 1))
    return `--min-score must be a number in [0, 1], got ${options.minScore}`;
  let camera: SimulatedCamera;
  if (options.detector === 'synthetic') {
    camera = { detector: 'synthetic' };
  } else if (options.detector === 'native') {
    if (options.source === undefined) return '--detector native needs --source';
    const size = /^(\d{2,4})x(\d{2,4})$/.exec(options.frameSize);
    if (!size) return `--frame-size must be <width>x<height>, e.g. 640x480, got ${options.frameSize}`;
    const threads = Number(options.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      return `--threads must be a whole number from 1 to 256, got ${options.threads}`;
    }
    camera = {
      detector: 'native',
      source: options.source,
      frameWidth: Number(size[1]),
      frameHeight: Number(size[2]),
      threads,
    };
  } else {
    return `--detector must be synthetic or native, got ${options.detector}`;
  }
  let preinstalledModel: PreinstalledModel | undefined;
  if ((options.preinstallBundle === undefined) !== (options.preinstallModel === undefined)) {
    return '--preinstall-bundle and --preinstall-model go together';
  }
  if (options.preinstallBundle !== undefined && options.preinstallModel !== undefined) {
    const at = options.preinstallModel.lastIndexOf('@');
    const modelId = options.preinstallModel.slice(0, at);
    const version = options.preinstallModel.slice(at + 1);
    if (
      at < 1 ||
      !modelIdSchema.safeParse(modelId).success ||
      !versionStringSchema.safeParse(version).success
    ) {
      return `--preinstall-model must be <model id>@<version>, got ${options.preinstallModel}`;
    }
    preinstalledModel = { archive: path.resolve(options.preinstallBundle), modelId, version };
  }
  return {
    count,
    ...(devices ? { devices } : {}),
    fps,
    camera,
    minScore,
    ...(preinstalledModel ? { preinstalledModel } : {}),
  };
}

function waitForSignal(environment: CliEnvironment): Promise<NodeJS.Signals> {
  return new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (received: NodeJS.Signals) => {
      environment.signals.removeListener('SIGTERM', onSignal);
      environment.signals.removeListener('SIGINT', onSignal);
      resolve(received);
    };
    environment.signals.once('SIGTERM', onSignal);
    environment.signals.once('SIGINT', onSignal);
  });
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
  const signal = await waitForSignal(environment);
  logger.info('shutting down', { signal });
  await agent.stop();
  logger.info('stopped');
}
