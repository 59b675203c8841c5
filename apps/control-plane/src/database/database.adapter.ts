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
}
