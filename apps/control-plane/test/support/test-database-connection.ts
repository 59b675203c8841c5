import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatabaseTimeouts } from '../../src/config/app-config';
import { DatabaseAdapter } from '../../src/database/database.adapter';
import { type DatabaseConnection, openDatabase } from '../../src/database/database-connection';
import { type Infrastructure } from '../../src/infra/infrastructure';
import { createTestDatabase } from './test-environment';

export type TestDatabaseMode = 'postgres' | 'pglite';

export interface TestDatabaseOptions {
  /** The pool's time limits (PostgreSQL only); the application's defaults when left out. */
  timeouts?: DatabaseTimeouts;
}

export interface TestDatabaseConnection {
  connection: DatabaseConnection;
  /** The adapter repositories take, over `connection`. */
  adapter: DatabaseAdapter;
  /** Closes the connection and drops the database (or removes PGlite's directory). */
  close(): Promise<void>;
}

export interface PostgresTestDatabaseConnection extends TestDatabaseConnection {
  /** The fresh database's URL, for sessions of the test's own beside the pool (e.g. one holding a lock). */
  url: string;
}

/** A migrated database of its own for a repository test: a fresh PostgreSQL database, or an embedded PGlite. */
export async function openTestDatabase(
  mode: 'postgres',
  options?: TestDatabaseOptions,
): Promise<PostgresTestDatabaseConnection>;
export async function openTestDatabase(
  mode: TestDatabaseMode,
  options?: TestDatabaseOptions,
): Promise<TestDatabaseConnection>;
export async function openTestDatabase(
  mode: TestDatabaseMode,
  options: TestDatabaseOptions = {},
): Promise<TestDatabaseConnection & { url?: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'emofleet-test-database-'));
  const database = mode === 'postgres' ? await createTestDatabase() : undefined;
  const connection = await openDatabase(database?.url, dataDir, options.timeouts);
  const infrastructure: Pick<Infrastructure, 'database'> = { database: connection };
  return {
    connection,
    adapter: new DatabaseAdapter(infrastructure as Infrastructure),
    url: database?.url,
    async close() {
      await connection.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
