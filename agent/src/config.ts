import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { DEFAULT_TOPIC_PREFIX, identifierProblem, topicPrefixProblem } from '@emofleet/protocol';
import { parseDeviceClassClaim, type DeviceClassClaim } from './engine-builder/device-class-claim';
import { readEnrolment, type EnrolmentRecord } from './enrolment/enrolment-file';
import { LOG_LEVELS } from './logger';

/** Every setting: its environment variable and its `run` flag (commander's camel-cased option name). */
export const CONFIG_KEYS = {
  mqttUrl: { env: 'EMOFLEET_MQTT_URL', flag: '--mqtt-url' },
  deviceId: { env: 'EMOFLEET_DEVICE_ID', flag: '--device-id' },
  deviceSecret: { env: 'EMOFLEET_DEVICE_SECRET', flag: '--secret' },
  deviceSecretFile: { env: 'EMOFLEET_DEVICE_SECRET_FILE', flag: '--secret-file' },
  dataDir: { env: 'EMOFLEET_DATA_DIR', flag: '--data-dir' },
  topicPrefix: { env: 'EMOFLEET_TOPIC_PREFIX', flag: '--topic-prefix' },
  mqttVersion: { env: 'EMOFLEET_MQTT_VERSION', flag: '--mqtt-version' },
  keepaliveSeconds: { env: 'EMOFLEET_KEEPALIVE_SECONDS', flag: '--keepalive-seconds' },
  reconnectInitialMs: { env: 'EMOFLEET_RECONNECT_INITIAL_MS', flag: '--reconnect-initial-ms' },
  reconnectMaxMs: { env: 'EMOFLEET_RECONNECT_MAX_MS', flag: '--reconnect-max-ms' },
  logLevel: { env: 'EMOFLEET_LOG_LEVEL', flag: '--log-level' },
  source: { env: 'EMOFLEET_SOURCE', flag: '--source' },
  frameSize: { env: 'EMOFLEET_FRAME_SIZE', flag: '--frame-size' },
  fps: { env: 'EMOFLEET_FPS', flag: '--fps' },
  detector: { env: 'EMOFLEET_DETECTOR', flag: '--detector' },
  minScore: { env: 'EMOFLEET_MIN_SCORE', flag: '--min-score' },
  minDurationMs: { env: 'EMOFLEET_MIN_DURATION_MS', flag: '--min-duration-ms' },
  spoolMaxBytes: { env: 'EMOFLEET_SPOOL_MAX_BYTES', flag: '--spool-max-bytes' },
  telemetryIntervalMs: { env: 'EMOFLEET_TELEMETRY_INTERVAL_MS', flag: '--telemetry-interval-ms' },
  engineBuilder: { env: 'EMOFLEET_ENGINE_BUILDER', flag: '--engine-builder' },
  claimDeviceClass: { env: 'EMOFLEET_CLAIM_DEVICE_CLASS', flag: '--claim-device-class' },
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/** Raw values as given (flags win over environment variables). */
export type RawConfig = Partial<Record<ConfigKey, string>>;

/** `$STATE_DIRECTORY` when systemd provides one (StateDirectory=), else ~/.local/state/emofleet-agent. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const systemdStateDirectory = env.STATE_DIRECTORY?.split(':')[0];
  if (systemdStateDirectory !== undefined && systemdStateDirectory.length > 0) return systemdStateDirectory;
  return path.join(os.homedir(), '.local', 'state', 'emofleet-agent');
}

const integerText = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((value) => value >= min && value <= max, `must be between ${min} and ${max}`);

const checked = (problemOf: (value: string) => string | undefined) =>
  z.string().superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

const configSchema = z
  .object({
    mqttUrl: z
      .string({ error: 'is required' })
      .refine(
        (value) => /^(mqtts?|wss?|tcp|ssl):\/\/[^\s/]+/.test(value),
        'must be an mqtt://, mqtts://, ws:// or wss:// URL with a host',
      ),
    deviceId: checked((value) => {
      const problem = identifierProblem(value);
      return problem === undefined ? undefined : `device id ${problem}`;
    }),
    deviceSecret: z.string().min(1, 'is empty').max(1024, 'is longer than 1024 characters'),
    dataDir: z.string().min(1, 'is empty'),
    topicPrefix: checked((value) => {
      const problem = topicPrefixProblem(value);
      return problem === undefined ? undefined : `topic prefix ${problem}`;
    }),
    mqttVersion: z.enum(['4', '5'], { error: 'must be 4 (MQTT 3.1.1) or 5 (MQTT 5)' }).transform(Number),
    keepaliveSeconds: integerText(5, 1200),
    reconnectInitialMs: integerText(10, 600_000),
    reconnectMaxMs: integerText(10, 86_400_000),
    logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
    source: z.string().min(1).nullable(),
    frameSize: z
      .string()
      .regex(/^\d{2,4}x\d{2,4}$/, 'must be <width>x<height>, e.g. 416x416')
      .transform((value) => value.split('x').map(Number) as [number, number]),
    fps: integerText(1, 240),
    detector: z.enum(['native', 'synthetic'], { error: 'must be native or synthetic' }),
    minScore: z
      .string()
      .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'must be a number in [0, 1]')
      .transform(Number),
    minDurationMs: integerText(0, 3_600_000),
    spoolMaxBytes: integerText(65_536, 2 ** 40),
    telemetryIntervalMs: integerText(500, 3_600_000),
    engineBuilder: z.string().min(1).nullable(),
    claimDeviceClass: z
      .string()
      .transform((text, ctx) => {
        const parsed = parseDeviceClassClaim(text);
        if (parsed.ok) return parsed.claim;
        ctx.addIssue({ code: 'custom', message: parsed.problem });
        return z.NEVER;
      })
      .nullable(),
  })
  .refine((config) => config.reconnectMaxMs >= config.reconnectInitialMs, {
    message: 'must not be smaller than the initial reconnect delay',
    path: ['reconnectMaxMs'],
  });

export interface AgentConfig {
  readonly mqttUrl: string;
  readonly deviceId: string;
  readonly deviceSecret: string;
  /** Absolute path. */
  readonly dataDir: string;
  readonly topicPrefix: string;
  readonly mqttVersion: 4 | 5;
  readonly keepaliveSeconds: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** `--source` (see FRAME_SOURCE_FORMS), or null: no detection, the agent only manages models. */
  readonly source: string | null;
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly fps: number;
  readonly detector: 'native' | 'synthetic';
  readonly minScore: number;
  readonly minDurationMs: number;
  readonly spoolMaxBytes: number;
  readonly telemetryIntervalMs: number;
  /** `--engine-builder`: the command that builds TensorRT engines; null: JetPack's trtexec when installed. */
  readonly engineBuilder: string | null;
  /** `--claim-device-class`, FOR TESTS ONLY: the GPU arch / TensorRT / JetPack this agent claims to have. */
  readonly claimDeviceClass: DeviceClassClaim | null;
  /** PEM ed25519 key pinned at enrolment; null when not enrolled (every model is then refused). */
  readonly manifestPublicKey: string | null;
  /** PEM CA pinned at enrolment for the broker and artifact downloads, or null. */
  readonly caCertificate: string | null;
}

export interface ConfigProblem {
  readonly key: ConfigKey;
  readonly message: string;
}

/** Lists every bad setting with its flag and environment variable; secrets are never echoed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid agent configuration:\n${problems
        .map(({ key, message }) => `  ${CONFIG_KEYS[key].flag} / ${CONFIG_KEYS[key].env}: ${message}`)
        .join('\n')}`,
    );
  }
}

/** Flags win over environment variables; empty strings count as unset. */
export function mergeConfigSources(flags: RawConfig, env: NodeJS.ProcessEnv): RawConfig {
  const merged: RawConfig = {};
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const value = flags[key] ?? env[CONFIG_KEYS[key].env];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  return merged;
}

/**
 * Validates the configuration once, at start-up. Settings not given as flags or environment variables come from
 * the enrolment record in the data directory (`emofleet-agent enroll`), so an enrolled device starts with no
 * flags. The secret comes from `--secret` / EMOFLEET_DEVICE_SECRET or
 * from a file (`--secret-file`, first line, e.g. written with mode 0600 at enrolment). Throws `ConfigError`
 * listing every bad key.
 */
export async function loadAgentConfig(flags: RawConfig, env: NodeJS.ProcessEnv): Promise<AgentConfig> {
  const raw = mergeConfigSources(flags, env);
  const problems: ConfigProblem[] = [];
  let enrolment: EnrolmentRecord | undefined;
  try {
    enrolment = readEnrolment(path.resolve(raw.dataDir ?? defaultDataDir(env)));
  } catch (error) {
    problems.push({ key: 'dataDir', message: (error as Error).message });
  }
  raw.mqttUrl ??= enrolment?.mqttUrl;
  raw.deviceId ??= enrolment?.deviceId;
  raw.topicPrefix ??= enrolment?.topicPrefix;
  if (raw.deviceSecret === undefined && raw.deviceSecretFile === undefined)
    raw.deviceSecret = enrolment?.secret;
  let deviceSecret = raw.deviceSecret;
  if (raw.deviceSecretFile !== undefined) {
    if (deviceSecret !== undefined) {
      problems.push({ key: 'deviceSecretFile', message: 'give either a secret or a secret file, not both' });
    } else {
      try {
        deviceSecret = (await fs.readFile(raw.deviceSecretFile, 'utf8')).split(/\r?\n/)[0]?.trim();
      } catch (error) {
        problems.push({
          key: 'deviceSecretFile',
          message: `cannot read ${raw.deviceSecretFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        });
        deviceSecret = 'unreadable';
      }
    }
  }
  const parsed = configSchema.safeParse({
    mqttUrl: raw.mqttUrl,
    deviceId: raw.deviceId ?? '',
    deviceSecret: deviceSecret ?? '',
    dataDir: raw.dataDir ?? defaultDataDir(env),
    topicPrefix: raw.topicPrefix ?? DEFAULT_TOPIC_PREFIX,
    mqttVersion: raw.mqttVersion ?? '4',
    keepaliveSeconds: raw.keepaliveSeconds ?? '30',
    reconnectInitialMs: raw.reconnectInitialMs ?? '1000',
    reconnectMaxMs: raw.reconnectMaxMs ?? '60000',
    logLevel: raw.logLevel ?? 'info',
    source: raw.source ?? null,
    frameSize: raw.frameSize ?? '416x416',
    fps: raw.fps ?? '15',
    detector: raw.detector ?? 'native',
    minScore: raw.minScore ?? '0.5',
    minDurationMs: raw.minDurationMs ?? '500',
    spoolMaxBytes: raw.spoolMaxBytes ?? String(64 * 1024 * 1024),
    telemetryIntervalMs: raw.telemetryIntervalMs ?? '5000',
    engineBuilder: raw.engineBuilder ?? null,
    claimDeviceClass: raw.claimDeviceClass ?? null,
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0] as ConfigKey;
      const message = key === 'deviceSecret' && deviceSecret === undefined ? 'is required' : issue.message;
      problems.push({ key, message });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const { frameSize, ...settings } = parsed.data;
  return {
    ...settings,
    dataDir: path.resolve(parsed.data.dataDir),
    mqttVersion: parsed.data.mqttVersion as 4 | 5,
    frameWidth: frameSize[0],
    frameHeight: frameSize[1],
    manifestPublicKey: enrolment?.signingPublicKey ?? null,
    caCertificate: enrolment?.caCertificate ?? null,
  };
}
