import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { type AppConfig, loadAppConfig } from '../../src/config/app-config';

/** The real services `npm test` found or started (tools/test-services.mjs), with local defaults. */
export const testServices = {
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  mqttUrl: process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
  databaseUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};

/**
 * The admin API token every test control plane accepts (EMOFLEET_ADMIN_TOKEN in `testConfig`). Send it with
 * `authHeaders()`; tests of the token system itself create tokens of other roles through the API.
 */
export const testAdminToken = `emf_test_admin_${randomBytes(24).toString('base64url')}`;

/** `Authorization` header for `token` (default: the test admin token), for fetch(). */
export const authHeaders = (token: string = testAdminToken): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});

/**
 * The timeout of a beforeAll hook that starts a control plane. Generous: on a loaded 2-core machine an embedded
 * start (PGlite, migrations, aedes) can take tens of seconds, and a hook that times out leaves a control plane
 * that nobody closes, whose MQTT client then reconnects inside the next test file of the same jest worker.
 */
export const CONTROL_PLANE_START_TIMEOUT_MS = 180_000;

export const uniqueSuffix = (): string => randomBytes(4).toString('hex');

/** A fresh PostgreSQL database for one test file, dropped by `drop()`. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `emofleet_test_${uniqueSuffix()}`;
  const admin = new Client({ connectionString: testServices.databaseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(testServices.databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: testServices.databaseUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export type TestMode = 'external-services' | 'embedded';

/**
 * A configuration on free ports with its own topic prefix, queue prefix and data directory, either against the
 * real external services or with every embedded default (PGlite, aedes; Redis found or started).
 */
export function testConfig(
  mode: TestMode,
  overrides: Record<string, string> = {},
): { config: AppConfig; topicPrefix: string; dataDir: string; cleanup(): void } {
  const suffix = uniqueSuffix();
  const dataDir = mkdtempSync(join(tmpdir(), 'emofleet-test-'));
  const topicPrefix = `emofleet-test-${suffix}/v1`;
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    MQTT_PORT: '0',
    MQTT_TOPIC_PREFIX: topicPrefix,
    QUEUE_PREFIX: `test-${suffix}`,
    EMOFLEET_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    EMOFLEET_ADMIN_TOKEN: testAdminToken,
    ...(mode === 'external-services'
      ? { REDIS_URL: testServices.redisUrl, MQTT_URL: testServices.mqttUrl }
      : {}),
    ...overrides,
  };
  return {
    config: loadAppConfig(env),
    topicPrefix,
    dataDir,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}
