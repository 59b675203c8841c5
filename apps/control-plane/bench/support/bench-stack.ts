import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchDatabase } from './bench-database';
import { type CleanupStack } from './cleanup-stack';
import { ControlPlaneApi } from './control-plane-api';
import { ControlPlaneProcess } from './control-plane-process';
import { PrivateBroker } from './private-broker';
import { deleteQueueKeys } from './shared-services-cleanup';

/** The machine's PostgreSQL and Redis (the bench makes its own database and queue prefix on them). */
export const BENCH_SERVICES = {
  postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
};
const SHARED_MEMORY = '/dev/shm';

/** What a fleet bench runs against: its own broker, database, topic and queue prefix, and the control plane. */
export interface BenchStack {
  broker: PrivateBroker;
  database: BenchDatabase;
  controlPlane: ControlPlaneProcess;
  api: ControlPlaneApi;
  topicPrefix: string;
  /** Where the simulated devices keep their spools and model slots (in memory where /dev/shm exists). */
  fleetDirectory: string;
  /** The `node --cpu-prof` output directory when the control plane runs profiled. */
  profileDirectory: string | undefined;
}

/**
 * Starts a private Mosquitto, a fresh database, and the built control plane (role `all`, port chosen by the
 * system) on them with a unique topic and queue prefix; each step registers its undo on `cleanup` as soon as it
 * has something to undo. `profile` runs the control plane under `node --cpu-prof`.
 */
export async function startBenchStack(
  cleanup: CleanupStack,
  workDirectory: string,
  options: { profile: boolean; progress: (line: string) => void },
): Promise<BenchStack> {
  const suffix = randomBytes(4).toString('hex');
  const fleetDirectory = mkdtempSync(
    join(existsSync(SHARED_MEMORY) ? SHARED_MEMORY : tmpdir(), 'emofleet-fleet-'),
  );
  cleanup.add('removing the fleet directory', () => rmSync(fleetDirectory, { recursive: true, force: true }));
  const topicPrefix = `emofleet-bench-${suffix}/v1`;
  const queuePrefix = `bench-${suffix}`;
  const adminToken = `emf_bench_${randomBytes(24).toString('base64url')}`;

  const broker = await PrivateBroker.start();
  cleanup.add('stopping the private mosquitto', () => broker.stop());
  const database = await BenchDatabase.create(BENCH_SERVICES.postgresUrl);
  cleanup.add('dropping the database', () => database.drop());
  cleanup.add('deleting the queue keys', () => deleteQueueKeys(BENCH_SERVICES.redisUrl, queuePrefix));
  options.progress(
    `database ${new URL(database.url).pathname.slice(1)}, private mosquitto ${broker.url} (pid ${broker.pid})`,
  );

  const profileDirectory = options.profile ? join(workDirectory, 'cpu-profile') : undefined;
  if (profileDirectory !== undefined) mkdirSync(profileDirectory);
  const controlPlane = await ControlPlaneProcess.start(
    {
      EMOFLEET_ROLE: 'all',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      REDIS_URL: BENCH_SERVICES.redisUrl,
      MQTT_URL: broker.url,
      MQTT_TOPIC_PREFIX: topicPrefix,
      MQTT_SHARED_GROUP: `bench-${suffix}`,
      QUEUE_PREFIX: queuePrefix,
      EMOFLEET_DATA_DIR: join(workDirectory, 'control-plane'),
      EMOFLEET_ADMIN_TOKEN: adminToken,
      EMOFLEET_DEMO: '0',
      LOG_LEVEL: 'warn',
    },
    join(workDirectory, 'control-plane.log'),
    profileDirectory === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`],
  );
  cleanup.add('stopping the control plane', () => controlPlane.stop());
  options.progress(`control plane ready at ${controlPlane.httpUrl} (pid ${controlPlane.pid ?? '?'})`);
  return {
    broker,
    database,
    controlPlane,
    api: new ControlPlaneApi(controlPlane.httpUrl, adminToken),
    topicPrefix,
    fleetDirectory,
    profileDirectory,
  };
}
