import { type RunningControlPlane, startControlPlane } from '../../src/control-plane';
import { removeScheduledQueues } from './queue-cleanup';
import { createTestDatabase, type TestMode, testConfig } from './test-environment';

/** A control plane of one test file, on its own database (external services), topic and queue prefixes. */
export interface TestControlPlane {
  readonly controlPlane: RunningControlPlane;
  readonly topicPrefix: string;
  readonly queuePrefix: string;
  /** Removes the scheduled queues from Redis, closes the control plane, drops its database and data dir. */
  close(): Promise<void>;
}

/**
 * Starts a control plane in `mode` with `overrides` on top of the test configuration; with external services it
 * gets a fresh PostgreSQL database. If the start fails, what was created is removed before the error is thrown.
 */
export async function startTestControlPlane(
  mode: TestMode,
  overrides: Record<string, string> = {},
): Promise<TestControlPlane> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const runCleanups = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const databaseOverrides: Record<string, string> = {};
    if (mode === 'external-services') {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      databaseOverrides.DATABASE_URL = database.url;
    }
    const test = testConfig(mode, { ...databaseOverrides, ...overrides });
    cleanups.push(test.cleanup);
    const queuePrefix = test.config.queuePrefix;
    const controlPlane = await startControlPlane(test.config, () => undefined);
    cleanups.push(async () => {
      await removeScheduledQueues(controlPlane, queuePrefix);
      await controlPlane.close();
    });
    return { controlPlane, topicPrefix: test.topicPrefix, queuePrefix, close: runCleanups };
  } catch (error) {
    await runCleanups();
    throw error;
  }
}
