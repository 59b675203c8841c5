import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { Pool } from 'pg';
import * as schema from './schema';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseConnection {
  db: Database;
  /** `postgres` for a PostgreSQL server, `pglite` for the embedded database. */
  kind: 'postgres' | 'pglite';
  /** Where it lives, without credentials (for logs). */
  description: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = join(__dirname, 'migrations');

/**
 * Opens PostgreSQL at `databaseUrl`, or the embedded PGlite database under `dataDir/pgdata` when no URL is
 * set, and applies every pending migration (the same SQL files serve both).
 */
export async function openDatabase(
  databaseUrl: string | undefined,
  dataDir: string,
): Promise<DatabaseConnection> {
  if (databaseUrl) {
    const pool = new Pool({ connectionString: databaseUrl, max: 10, connectionTimeoutMillis: 5000 });
    // An idle client whose server went away must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const db = drizzlePg(pool, { schema });
    await migratePg(db, { migrationsFolder: MIGRATIONS_FOLDER });
    const url = new URL(databaseUrl);
    return {
      db,
      kind: 'postgres',
      description: `postgres://${url.host}${url.pathname}`,
      ping: async () => void (await db.execute(sql`select 1`)),
      close: () => pool.end(),
    };
  }
  const directory = join(dataDir, 'pgdata');
  mkdirSync(directory, { recursive: true });
  const client = await PGlite.create(directory);
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db,
    kind: 'pglite',
    description: `pglite ${directory}`,
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => client.close(),
  };
}
