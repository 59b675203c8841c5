import { Injectable } from '@nestjs/common';
import { and, asc, eq, gt, lt, sql, type SQL } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { type RolloutEventRow, rolloutEvents } from '../database/schema';
import { type RolloutEventDto } from './rollouts.dto';

/**
 * Rollout events in id order. Readers that tail the table (the stream, webhooks) pass `settledMs`: only events
 * stored at least that long ago by the database clock, because ids are drawn at insert while transactions
 * commit in any order (see docs/events.md, "Why the stream cannot lose events"); a step's transaction is short.
 */
@Injectable()
export class RolloutEventsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  page(query: {
    rolloutId?: string;
    afterId?: number;
    limit: number;
    settledMs?: number;
  }): Promise<RolloutEventRow[]> {
    const conditions: SQL[] = [];
    if (query.rolloutId !== undefined) conditions.push(eq(rolloutEvents.rolloutId, query.rolloutId));
    if (query.afterId !== undefined) conditions.push(gt(rolloutEvents.id, query.afterId));
    if (query.settledMs !== undefined)
      conditions.push(
        lt(rolloutEvents.createdAt, sql`now() - ${query.settledMs} * interval '1 millisecond'`),
      );
    return this.database.db
      .select()
      .from(rolloutEvents)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(asc(rolloutEvents.id))
      .limit(query.limit);
  }

  async findById(id: number): Promise<RolloutEventRow | undefined> {
    const [row] = await this.database.db.select().from(rolloutEvents).where(eq(rolloutEvents.id, id));
    return row;
  }

  /** The highest event id (0 when there is none): where a new webhook starts. */
  async newestId(): Promise<number> {
    const [row] = await this.database.db
      .select({ id: sql<string | null>`max(${rolloutEvents.id})` })
      .from(rolloutEvents);
    return row?.id === null || row?.id === undefined ? 0 : Number(row.id);
  }
}

export function toRolloutEventDto(row: RolloutEventRow): RolloutEventDto {
  return {
    id: String(row.id),
    rolloutId: row.rolloutId,
    type: row.scope,
    phase: row.phaseIndex === null ? null : row.phaseIndex + 1,
    deviceId: row.deviceId,
    from: row.fromState,
    to: row.toState,
    reason: row.reason,
    details: row.details,
    actor: row.actor,
    at: row.createdAt.toISOString(),
  };
}
