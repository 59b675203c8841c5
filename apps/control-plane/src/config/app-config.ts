import { DEFAULT_TOPIC_PREFIX, topicPrefixProblem } from '@emofleet/protocol';
import { z } from 'zod';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

const port = z.coerce.number().int().min(0).max(65535);
const url = (protocols: readonly string[]) =>
  z
    .string()
    .url()
    .refine((value) => protocols.includes(new URL(value).protocol), {
      message: `must use one of ${protocols.join(', ')}`,
    });

/**
 * Every setting the control plane reads from its environment. Parsed once at boot; a bad value stops the
 * process with one message listing every bad key (see `loadAppConfig`).
 */
const configSchema = z.object({
  EMOFLEET_ROLE: z.enum(ROLES).default('all'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(3000),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  MQTT_URL: url(['mqtt:', 'mqtts:', 'tcp:']).optional(),
  MQTT_PORT: port.default(1883),
  MQTT_TOPIC_PREFIX: z
    .string()
    .superRefine((value, ctx) => {
      const problem = topicPrefixProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(DEFAULT_TOPIC_PREFIX),
  MQTT_SHARED_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('emofleet-control-plane'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('emofleet'),
  EMOFLEET_DATA_DIR: z.string().min(1).default('.emofleet'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
});

export interface AppConfig {
  role: Role;
  http: { host: string; port: number };
  /** `undefined` means the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  /** `undefined` means: a Redis answering on the default URL, else a private redis-server. */
  redisUrl: string | undefined;
  /** `undefined` means the embedded MQTT broker on `mqtt.embeddedPort` (or the next free port). */
  mqtt: { url: string | undefined; embeddedPort: number; topicPrefix: string; sharedGroup: string };
  queuePrefix: string;
  dataDir: string;
  logLevel: z.infer<typeof configSchema>['LOG_LEVEL'];
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration; throws a `ConfigError` naming every bad key at once. */
export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const relevant = Object.fromEntries(
    Object.keys(configSchema.shape).map((key) => [key, emptyToUndefined(env[key])]),
  );
  const parsed = configSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = issue.path.join('.');
        return `${key}=${JSON.stringify(env[key] ?? '')}: ${issue.message}`;
      }),
    );
  }
  const c = parsed.data;
  return {
    role: c.EMOFLEET_ROLE,
    http: { host: c.HOST, port: c.PORT },
    databaseUrl: c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    mqtt: {
      url: c.MQTT_URL,
      embeddedPort: c.MQTT_PORT,
      topicPrefix: c.MQTT_TOPIC_PREFIX,
      sharedGroup: c.MQTT_SHARED_GROUP,
    },
    queuePrefix: c.QUEUE_PREFIX,
    dataDir: c.EMOFLEET_DATA_DIR,
    logLevel: c.LOG_LEVEL,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
  };
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

export const runsApi = (role: Role): boolean => role === 'api' || role === 'all';
export const runsWorker = (role: Role): boolean => role === 'worker' || role === 'all';
