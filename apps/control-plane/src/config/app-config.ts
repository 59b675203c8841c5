import { DEFAULT_TOPIC_PREFIX, topicPrefixProblem } from '@emofleet/protocol';
import { join } from 'node:path';
import { z } from 'zod';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who keeps the brokers' device accounts: the embedded broker (checks the database), Mosquitto's dynamic
 * security plugin (the control plane creates and deletes a client per device), or nobody (`unmanaged`: the
 * operator provisions the broker, e.g. with a password file).
 */
export const DEVICE_CREDENTIAL_MODES = ['embedded', 'mosquitto-dynsec', 'unmanaged'] as const;
export type DeviceCredentialMode = (typeof DEVICE_CREDENTIAL_MODES)[number];

const port = z.coerce.number().int().min(0).max(65535);
const byteCount = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** A database time limit: at least 10 ms, at most a day (PostgreSQL's own limit is about 24 days). */
const milliseconds = z.coerce.number().int().min(10).max(86_400_000);
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
  HTTP_PUBLIC_URL: url(['http:', 'https:']).optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_STATEMENT_TIMEOUT_MS: milliseconds.default(30_000),
  DATABASE_QUERY_TIMEOUT_MS: milliseconds.optional(),
  DATABASE_CONNECT_TIMEOUT_MS: milliseconds.default(30_000),
  DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS: milliseconds.default(1_800_000),
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
  // Device messages handled at once; at the limit the control plane stops reading from the broker (messaging/).
  MQTT_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(1000),
  // MQTT keepalive of the control plane's broker connections, seconds.
  MQTT_KEEPALIVE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('emofleet'),
  EMOFLEET_DATA_DIR: z.string().min(1).default('.emofleet'),
  EMOFLEET_DEMO: z.enum(['0', '1'], { error: 'must be 1 (run the demo with `npm start`) or 0' }).default('1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  ARTIFACTS_DIR: z.string().min(1).optional(),
  SIGNING_KEY_FILE: z.string().min(1).optional(),
  UPLOAD_MAX_CFG_BYTES: byteCount.default(1024 * 1024),
  UPLOAD_MAX_WEIGHTS_BYTES: byteCount.default(1024 ** 3),
  UPLOAD_MAX_NAMES_BYTES: byteCount.default(64 * 1024),
  UPLOAD_MAX_EVAL_SET_BYTES: byteCount.default(1024 ** 3),
  EVAL_SET_MAX_ENTRIES: z.coerce.number().int().positive().default(20_000),
  EVAL_SET_MAX_UNCOMPRESSED_BYTES: byteCount.default(4 * 1024 ** 3),
  EVAL_SET_MAX_COMPRESSION_RATIO: z.coerce.number().positive().default(100),
  EMOFLEET_ADMIN_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters (for example `openssl rand -base64 32`)')
    .max(512)
    .optional(),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  TLS_CA_FILE: z.string().min(1).optional(),
  MQTT_PUBLIC_URL: url(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']).optional(),
  MQTT_DEVICE_CREDENTIALS: z.enum(DEVICE_CREDENTIAL_MODES).optional(),
  TELEMETRY_FLUSH_MAX_ROWS: z.coerce.number().int().min(1).max(3000).default(1000),
  TELEMETRY_FLUSH_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  TELEMETRY_RAW_RETENTION_HOURS: z.coerce.number().int().positive().default(48),
  TELEMETRY_ROLLUP_1M_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
  TELEMETRY_ROLLUP_1H_RETENTION_DAYS: z.coerce.number().int().positive().default(400),
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(0).default(90),
  WEBHOOK_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).max(10_000).default(20),
  ENGINE_BUILD_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(7 * 24 * 3_600_000)
    .default(3_600_000),
  ENGINE_BUILD_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  ENGINE_BUILD_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  ENGINE_BUILD_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(5000),
  ENGINE_UPLOAD_MAX_BYTES: byteCount.default(1024 ** 3),
  // The paper's figure: 1x1 filters and TensorRT together cost one point of accuracy.
  QUANTIZE_MAX_ACCURACY_DROP_POINTS: z.coerce.number().min(0).max(100).default(1),
});

/** Every environment variable the control plane reads (deployment manifests are checked against it). */
export const CONFIG_KEYS: readonly string[] = Object.keys(configSchema.shape);

/** Keys whose values are secrets: configuration errors never echo them. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['EMOFLEET_ADMIN_TOKEN']);

export interface AppConfig {
  role: Role;
  http: {
    host: string;
    port: number;
    /** The API's base URL as devices reach it (artifact URLs in desired states); `undefined`: the listener's. */
    publicUrl: string | undefined;
  };
  /** `undefined` means the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  /** Time limits of the PostgreSQL pool (PGlite, in this process, has none). */
  databaseTimeouts: DatabaseTimeouts;
  /** `undefined` means: a Redis answering on the default URL, else a private redis-server. */
  redisUrl: string | undefined;
  /** `undefined` means the embedded MQTT broker on `mqtt.embeddedPort` (or the next free port). */
  mqtt: {
    url: string | undefined;
    embeddedPort: number;
    topicPrefix: string;
    sharedGroup: string;
    /** The broker URL handed to devices at enrolment; `undefined`: the URL the control plane itself uses. */
    publicUrl: string | undefined;
    /** Default: `embedded` with the embedded broker, `unmanaged` with MQTT_URL. */
    deviceCredentials: DeviceCredentialMode;
    /** Received messages handled at once; at the limit the reader stops reading (TCP backpressure). */
    maxInFlight: number;
    keepaliveSeconds: number;
  };
  /** The admin token from EMOFLEET_ADMIN_TOKEN, if set (else one is generated at first start). */
  adminToken: string | undefined;
  /** Certificate and key for https and mqtts; `undefined` means plain TCP. */
  tls: TlsFiles | undefined;
  queuePrefix: string;
  dataDir: string;
  /**
   * `npm start` (role `all`) prepares and runs the face-api demo (docs in README.md): imported model, simulated
   * cameras on a demo video. Off with EMOFLEET_DEMO=0; only main.ts starts it, never startControlPlane alone.
   */
  demo: boolean;
  logLevel: z.infer<typeof configSchema>['LOG_LEVEL'];
  shutdownTimeoutMs: number;
  artifacts: {
    /** Where the filesystem artifact store keeps its blobs (default `<dataDir>/artifacts`). */
    directory: string;
    /** PEM file with the ed25519 manifest signing key; `undefined`: generated under `dataDir` at first start. */
    signingKeyFile: string | undefined;
  };
  uploads: UploadLimits;
  telemetry: TelemetrySettings;
  events: {
    /** Events older than this many days are deleted by the worker; 0 keeps them forever. */
    retentionDays: number;
  };
  webhooks: WebhookSettings;
  engineBuilds: EngineBuildSettings;
  quantization: {
    /** Eval-set accuracy (percentage points) an INT8 plan may lose against FP32; a request may override it. */
    maxAccuracyDropPoints: number;
  };
}

/**
 * PostgreSQL time limits (docs/architecture.md, "Database time limits"). Each names its configuration key in
 * the error it causes.
 */
export interface DatabaseTimeouts {
  /** Server side (`statement_timeout`): the longest a statement may run, lock waits included. */
  statementMs: number;
  /**
   * Client side (node-postgres `query_timeout`): the longest the pool waits for an answer when the server or
   * the network stops answering; above the statement limit so the server's own, clearer error comes first.
   */
  queryMs: number;
  /**
   * The longest a query waits for a connection (`connectionTimeoutMillis`): a new one being opened, or, when the
   * pool is at its size, the next one another query returns. It bounds queueing, so it is as long as a statement.
   */
  connectMs: number;
  /** The statement limit inside maintenance transactions (retention deletes, roll-ups): `SET LOCAL`. */
  maintenanceStatementMs: number;
}

/** Extra time the client waits past a statement limit before it gives up on the server (default query limit). */
export const QUERY_TIMEOUT_MARGIN_MS = 5000;

/** TensorRT engine builds on builder devices (docs/engines.md). */
export interface EngineBuildSettings {
  /** How long a builder may take for one attempt (the device job's time-out). */
  timeoutMs: number;
  /** Attempts per build (the first one included), each on an online builder of the class. */
  attempts: number;
  /** Delay before the first retry; doubled for every further one. */
  backoffMs: number;
  /** How often a waiting build reads its device job (changes seen by this process wake it at once). */
  pollMs: number;
  /** Largest engine a builder may upload. */
  uploadMaxBytes: number;
}

/** Webhook delivery: retries with exponential backoff, time-out, automatic disabling. */
export interface WebhookSettings {
  /** Attempts per delivery (the first one included). */
  deliveryAttempts: number;
  /** Delay before the first retry; doubled for every further one. */
  backoffMs: number;
  timeoutMs: number;
  /** Consecutive failed attempts (any delivery) after which the webhook is disabled. */
  disableAfterFailures: number;
}

/** Telemetry ingestion batching and how long each resolution is kept. */
export interface TelemetrySettings {
  /** A buffer of this many samples is written at once ... */
  flushMaxRows: number;
  /** ... and a non-empty buffer at least this often. */
  flushIntervalMs: number;
  rawRetentionHours: number;
  rollup1mRetentionDays: number;
  rollup1hRetentionDays: number;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** The CA that issued the certificate, handed to devices at enrolment so they can pin it. */
  caFile: string | undefined;
}

/** Per-file size limits of a model version upload and the eval set archive's safety caps. */
export interface UploadLimits {
  maxCfgBytes: number;
  maxWeightsBytes: number;
  maxNamesBytes: number;
  maxEvalSetBytes: number;
  evalSetMaxEntries: number;
  evalSetMaxUncompressedBytes: number;
  /** Largest uncompressed / compressed ratio of one archive entry (zip bomb guard). */
  evalSetMaxCompressionRatio: number;
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
        return `${key}=${SECRET_KEYS.has(key) ? '(hidden)' : JSON.stringify(env[key] ?? '')}: ${issue.message}`;
      }),
    );
  }
  const c = parsed.data;
  const combinationProblems = [
    c.TLS_CERT_FILE !== undefined && c.TLS_KEY_FILE === undefined
      ? 'TLS_KEY_FILE: must be set when TLS_CERT_FILE is'
      : undefined,
    c.TLS_KEY_FILE !== undefined && c.TLS_CERT_FILE === undefined
      ? 'TLS_CERT_FILE: must be set when TLS_KEY_FILE is'
      : undefined,
    c.TLS_CA_FILE !== undefined && c.TLS_CERT_FILE === undefined
      ? 'TLS_CA_FILE: needs TLS_CERT_FILE and TLS_KEY_FILE'
      : undefined,
    c.DATABASE_QUERY_TIMEOUT_MS !== undefined &&
    c.DATABASE_QUERY_TIMEOUT_MS <= c.DATABASE_STATEMENT_TIMEOUT_MS
      ? `DATABASE_QUERY_TIMEOUT_MS=${c.DATABASE_QUERY_TIMEOUT_MS}: must be above DATABASE_STATEMENT_TIMEOUT_MS (${c.DATABASE_STATEMENT_TIMEOUT_MS}), so the server's statement limit fires first`
      : undefined,
    c.DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS < c.DATABASE_STATEMENT_TIMEOUT_MS
      ? `DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS=${c.DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS}: must not be below DATABASE_STATEMENT_TIMEOUT_MS (${c.DATABASE_STATEMENT_TIMEOUT_MS})`
      : undefined,
    c.MQTT_DEVICE_CREDENTIALS === 'embedded' && c.MQTT_URL !== undefined
      ? 'MQTT_DEVICE_CREDENTIALS="embedded": only the embedded broker (no MQTT_URL) checks embedded credentials'
      : undefined,
    c.MQTT_DEVICE_CREDENTIALS === 'mosquitto-dynsec' && c.MQTT_URL === undefined
      ? 'MQTT_DEVICE_CREDENTIALS="mosquitto-dynsec": needs MQTT_URL (the Mosquitto to manage)'
      : undefined,
  ].filter((problem): problem is string => problem !== undefined);
  if (combinationProblems.length > 0) throw new ConfigError(combinationProblems);
  return {
    role: c.EMOFLEET_ROLE,
    http: { host: c.HOST, port: c.PORT, publicUrl: c.HTTP_PUBLIC_URL?.replace(/\/+$/, '') },
    databaseUrl: c.DATABASE_URL,
    databaseTimeouts: {
      statementMs: c.DATABASE_STATEMENT_TIMEOUT_MS,
      queryMs: c.DATABASE_QUERY_TIMEOUT_MS ?? c.DATABASE_STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_MARGIN_MS,
      connectMs: c.DATABASE_CONNECT_TIMEOUT_MS,
      maintenanceStatementMs: c.DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS,
    },
    redisUrl: c.REDIS_URL,
    mqtt: {
      url: c.MQTT_URL,
      embeddedPort: c.MQTT_PORT,
      topicPrefix: c.MQTT_TOPIC_PREFIX,
      sharedGroup: c.MQTT_SHARED_GROUP,
      publicUrl: c.MQTT_PUBLIC_URL,
      deviceCredentials: c.MQTT_DEVICE_CREDENTIALS ?? (c.MQTT_URL === undefined ? 'embedded' : 'unmanaged'),
      maxInFlight: c.MQTT_MAX_IN_FLIGHT,
      keepaliveSeconds: c.MQTT_KEEPALIVE_SECONDS,
    },
    adminToken: c.EMOFLEET_ADMIN_TOKEN,
    tls:
      c.TLS_CERT_FILE !== undefined && c.TLS_KEY_FILE !== undefined
        ? { certFile: c.TLS_CERT_FILE, keyFile: c.TLS_KEY_FILE, caFile: c.TLS_CA_FILE }
        : undefined,
    queuePrefix: c.QUEUE_PREFIX,
    dataDir: c.EMOFLEET_DATA_DIR,
    demo: c.EMOFLEET_DEMO === '1',
    logLevel: c.LOG_LEVEL,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    artifacts: {
      directory: c.ARTIFACTS_DIR ?? join(c.EMOFLEET_DATA_DIR, 'artifacts'),
      signingKeyFile: c.SIGNING_KEY_FILE,
    },
    uploads: {
      maxCfgBytes: c.UPLOAD_MAX_CFG_BYTES,
      maxWeightsBytes: c.UPLOAD_MAX_WEIGHTS_BYTES,
      maxNamesBytes: c.UPLOAD_MAX_NAMES_BYTES,
      maxEvalSetBytes: c.UPLOAD_MAX_EVAL_SET_BYTES,
      evalSetMaxEntries: c.EVAL_SET_MAX_ENTRIES,
      evalSetMaxUncompressedBytes: c.EVAL_SET_MAX_UNCOMPRESSED_BYTES,
      evalSetMaxCompressionRatio: c.EVAL_SET_MAX_COMPRESSION_RATIO,
    },
    telemetry: {
      flushMaxRows: c.TELEMETRY_FLUSH_MAX_ROWS,
      flushIntervalMs: c.TELEMETRY_FLUSH_INTERVAL_MS,
      rawRetentionHours: c.TELEMETRY_RAW_RETENTION_HOURS,
      rollup1mRetentionDays: c.TELEMETRY_ROLLUP_1M_RETENTION_DAYS,
      rollup1hRetentionDays: c.TELEMETRY_ROLLUP_1H_RETENTION_DAYS,
    },
    events: { retentionDays: c.EVENT_RETENTION_DAYS },
    webhooks: {
      deliveryAttempts: c.WEBHOOK_DELIVERY_ATTEMPTS,
      backoffMs: c.WEBHOOK_BACKOFF_MS,
      timeoutMs: c.WEBHOOK_TIMEOUT_MS,
      disableAfterFailures: c.WEBHOOK_DISABLE_AFTER_FAILURES,
    },
    engineBuilds: {
      timeoutMs: c.ENGINE_BUILD_TIMEOUT_MS,
      attempts: c.ENGINE_BUILD_ATTEMPTS,
      backoffMs: c.ENGINE_BUILD_BACKOFF_MS,
      pollMs: c.ENGINE_BUILD_POLL_MS,
      uploadMaxBytes: c.ENGINE_UPLOAD_MAX_BYTES,
    },
    quantization: { maxAccuracyDropPoints: c.QUANTIZE_MAX_ACCURACY_DROP_POINTS },
  };
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

export const runsApi = (role: Role): boolean => role === 'api' || role === 'all';
export const runsWorker = (role: Role): boolean => role === 'worker' || role === 'all';
