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
import { type DatabaseTimeouts } from '../config/app-config';
import {
  DEFAULT_DATABASE_TIMEOUTS,
  explainTimeouts,
  limitsOf,
  maintenanceLimitsOf,
  withLimits,
} from './database-timeouts';
import * as schema from './schema';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The handle a `Database.transaction` callback gets. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseConnection {
  db: Database;
  /** `postgres` for a PostgreSQL server, `pglite` for the embedded database. */
  kind: 'postgres' | 'pglite';
  /** Where it lives, without credentials (for logs). */
  description: string;
  ping(): Promise<void>;
  /**
   * Runs `work` in one transaction whose statements may take DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS instead
   * of the usual statement limit (`SET LOCAL statement_timeout`): retention deletes and roll-ups.
   */
  maintenance<T>(work: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = join(__dirname, 'migrations');

/**
 * Opens PostgreSQL at `databaseUrl`, or the embedded PGlite database under `dataDir/pgdata` when no URL is
 * set, and applies every pending migration (the same SQL files serve both). PostgreSQL connections get the
 * `timeouts` (statement, query, connect); a timeout fails with a `DatabaseTimeoutError` naming its key.
 */
export async function openDatabase(
  databaseUrl: string | undefined,
  dataDir: string,
  timeouts: DatabaseTimeouts = DEFAULT_DATABASE_TIMEOUTS,
): Promise<DatabaseConnection> {
  if (databaseUrl) {
    const pool = new Pool({
      connectionString: databaseUrl,
      max: 10,
      connectionTimeoutMillis: timeouts.connectMs,
      statement_timeout: timeouts.statementMs,
      query_timeout: timeouts.queryMs,
    });
    // An idle client whose server went away must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const limits = limitsOf(timeouts);
    pool.on('connect', (client) => explainTimeouts(client as never, limits));
    const db = drizzlePg(pool, { schema });
    const maintenanceLimits = maintenanceLimitsOf(timeouts);
    await migrate(databaseUrl, timeouts);
    const url = new URL(databaseUrl);
    return {
      db,
      kind: 'postgres',
      description: `postgres://${url.host}${url.pathname}`,
      ping: async () => void (await db.execute(sql`select 1`)),
      maintenance: (work) =>
        withLimits(maintenanceLimits, () =>
          db.transaction(async (tx) => {
            await tx.execute(sql.raw(`set local statement_timeout = ${maintenanceLimits.statementMs}`));
            return work(tx);
          }),
        ),
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
    // PGlite runs in this process, one statement at a time: no time limits to raise.
    maintenance: (work) => work(db),
    close: () => client.close(),
  };
}

/** Applies the migrations over a connection of their own, with the maintenance statement limit. */
async function migrate(databaseUrl: string, timeouts: DatabaseTimeouts): Promise<void> {
  const limits = maintenanceLimitsOf(timeouts);
  const pool = new Pool({
    connectionString: databaseUrl,
    max: 1,
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: limits.statementMs,
    query_timeout: limits.queryMs,
  });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => explainTimeouts(client as never, limits));
  try {
    await migratePg(drizzlePg(pool, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await pool.end();
  }
}
