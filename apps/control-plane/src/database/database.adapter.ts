import { Inject, Injectable } from '@nestjs/common';
import { INFRASTRUCTURE, type Infrastructure } from '../infra/infrastructure';
import { type Database } from './database-connection';

/** The database as services see it: a typed drizzle handle and a liveness probe. */
@Injectable()
export class DatabaseAdapter {
  constructor(@Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure) {}

  get db(): Database {
    return this.infrastructure.database.db;
  }

  get kind(): 'postgres' | 'pglite' {
    return this.infrastructure.database.kind;
  }

  ping(): Promise<void> {
    return this.infrastructure.database.ping();
  }

  /**
   * Runs a long maintenance job (retention deletes, roll-ups) in one transaction whose statements may take
   * DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS rather than DATABASE_STATEMENT_TIMEOUT_MS.
   */
  maintenance<T>(work: (db: Database) => Promise<T>): Promise<T> {
    return this.infrastructure.database.maintenance(work);
  }
}
