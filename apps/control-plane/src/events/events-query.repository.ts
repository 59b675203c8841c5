import { Injectable } from '@nestjs/common';
import { and, asc, eq, lt, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { devices, emotionEvents, type EmotionEventRow } from '../database/schema';
import { eventConditions, type EventFilter } from './event-filter';
import { rowsOf } from '../database/rows-of';

export type AggregateDimension = { by: 'label' } | { by: 'device' } | { by: 'tag'; key: string };

export interface AggregateRow {
  bucketStart: Date;
  /** One value per requested dimension, in request order (null: the device lacks the tag). */
  keys: Array<string | null>;
  count: number;
}

/** Reads stored events in their global order (`id`), which is stable: new events only get higher ids. */
@Injectable()
export class EventsQueryRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /**
   * Up to `limit` events matching `filter` with an id above `afterId`, by id. With `settleMs`, only events stored
   * at least that long ago (database clock): a tailing reader leaves recent ids alone until every transaction that
   * may still commit a lower id has done so (ids are drawn at insert, commits can finish out of order).
   */
  page(
    filter: EventFilter,
    afterId: number | undefined,
    limit: number,
    settleMs?: number,
  ): Promise<EmotionEventRow[]> {
    return this.database.db
      .select()
      .from(emotionEvents)
      .where(
        and(
          eventConditions(filter, afterId),
          settleMs === undefined
            ? undefined
            : lt(emotionEvents.receivedAt, sql`now() - ${settleMs} * interval '1 millisecond'`),
        ),
      )
      .orderBy(asc(emotionEvents.id))
      .limit(limit);
  }

  async findById(id: number): Promise<EmotionEventRow | undefined> {
    const [row] = await this.database.db.select().from(emotionEvents).where(eq(emotionEvents.id, id));
    return row;
  }

  /** Event counts per time bucket (`date_bin` on `startedAt`) and per value of each dimension. */
  async aggregate(
    filter: EventFilter,
    bucketSeconds: number,
    dimensions: readonly AggregateDimension[],
  ): Promise<AggregateRow[]> {
    const keys = dimensions.map((dimension) => {
      switch (dimension.by) {
        case 'label':
          return sql`${emotionEvents.label}`;
        case 'device':
          return sql`${emotionEvents.deviceId}`;
        case 'tag':
          return sql`(select ${devices.tags} ->> ${dimension.key} from ${devices} where ${devices.id} = ${emotionEvents.deviceId})`;
      }
    });
    const selectedKeys = keys.map((key, index) => sql`${key} as ${sql.raw(`k${index}`)}`);
    const groupPositions = sql.raw(keys.map((_, index) => String(index + 2)).join(', '));
    const where = eventConditions(filter, undefined);
    const rows = rowsOf<Record<string, string | Date | null>>(
      await this.database.db.execute(sql`
        select date_bin(${bucketSeconds} * interval '1 second', ${emotionEvents.startedAt},
            timestamptz '1970-01-01T00:00:00Z') as bucket_start,
          ${sql.join(selectedKeys, sql`, `)}, count(*)::int8 as count
        from ${emotionEvents}
        ${where === undefined ? sql`` : sql`where ${where}`}
        group by 1, ${groupPositions} order by 1, ${groupPositions}`),
    );
    return rows.map((row) => ({
      bucketStart: new Date(row.bucket_start as string | Date),
      keys: dimensions.map((_, index) => (row[`k${index}`] as string | null) ?? null),
      count: Number(row.count),
    }));
  }
}
