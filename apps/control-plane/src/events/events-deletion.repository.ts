import { Injectable } from '@nestjs/common';
import { and, gte, lt, sql, type SQL } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { type Database } from '../database/database-connection';
import { emotionEvents } from '../database/schema';
import { rowsOf } from '../database/rows-of';

/**
 * Deleting events (privacy): by device and time range on request, and by age for retention. The acknowledged
 * frontier is kept, so devices do not re-send what was deliberately deleted.
 */
@Injectable()
export class EventsDeletionRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Deletes the device's events that started in [from, to) (open ends unbounded); returns how many. */
  deleteForDevice(deviceId: string, from: Date | undefined, to: Date | undefined): Promise<number> {
    return this.deleteWhere(
      and(
        sql`${emotionEvents.deviceId} = ${deviceId}`,
        from === undefined ? undefined : gte(emotionEvents.startedAt, from),
        to === undefined ? undefined : lt(emotionEvents.startedAt, to),
      ),
    );
  }

  /**
   * Deletes at most `limit` events that started before `cutoff`; returns how many (0: none left). Retention,
   * so under the maintenance statement limit.
   */
  deleteStartedBefore(cutoff: Date, limit: number): Promise<number> {
    return this.database.maintenance((db) =>
      this.deleteWhere(
        sql`${emotionEvents.id} in (select id from ${emotionEvents} where ${emotionEvents.startedAt} < ${cutoff.toISOString()}::timestamptz limit ${limit})`,
        db,
      ),
    );
  }

  private async deleteWhere(condition: SQL | undefined, db: Database = this.database.db): Promise<number> {
    const result: unknown = await db.execute(sql`
      with deleted as (delete from ${emotionEvents} where ${condition ?? sql`true`} returning 1)
      select count(*)::int8 as count from deleted`);
    return Number(rowsOf<{ count: string }>(result)[0]?.count ?? 0);
  }
}
