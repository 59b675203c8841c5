import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseAdapter } from '../../src/database/database.adapter';
import { type DatabaseConnection, openDatabase } from '../../src/database/database-connection';
import { type Infrastructure } from '../../src/infra/infrastructure';
import { createTestDatabase } from './test-environment';

export type TestDatabaseMode = 'postgres' | 'pglite';

export interface TestDatabaseConnection {
  connection: DatabaseConnection;
  /** The adapter repositories take, over `connection`. */
  adapter: DatabaseAdapter;
  /** Closes the connection and drops the database (or removes PGlite's directory). */
  close(): Promise<void>;
}

/** A migrated database of its own for a repository test: a fresh PostgreSQL database, or an embedded PGlite. */
export async function openTestDatabase(mode: TestDatabaseMode): Promise<TestDatabaseConnection> {
  const dataDir = mkdtempSync(join(tmpdir(), 'emofleet-test-database-'));
  const database = mode === 'postgres' ? await createTestDatabase() : undefined;
  const connection = await openDatabase(database?.url, dataDir);
  const infrastructure: Pick<Infrastructure, 'database'> = { database: connection };
  return {
    connection,
    adapter: new DatabaseAdapter(infrastructure as Infrastructure),
    async close() {
      await connection.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
