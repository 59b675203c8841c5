import { Injectable } from '@nestjs/common';
import { type EmotionEvent, type LostSequenceRange } from '@emofleet/protocol';
import { sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { type Database } from '../database/database-connection';
import { emotionEvents, eventAcks, eventSequenceLosses } from '../database/schema';

/** What storing one batch changed. */
export interface StoredBatch {
  /** Events new to the database (the rest were already stored: redelivery). */
  inserted: number;
  /** Lost ranges not declared before. */
  newLossRanges: number;
}

export interface SequenceRange {
  fromSeq: number;
  toSeq: number;
}

/** Where a device's stored sequence stands: the ack frontier and what is still missing above it. */
export interface SequenceContinuity {
  highestContiguousSeq: number;
  highestStoredSeq: number;
  storedEvents: number;
  lostRanges: SequenceRange[];
  lostEvents: number;
  /** Ranges above the ack frontier neither stored nor declared lost (at most `limit`). */
  missingRanges: SequenceRange[];
}

type Rows<T> = { rows: T[] };
const rowsOf = <T>(result: unknown): T[] => (result as Rows<T>).rows;

@Injectable()
export class EventsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /**
   * Stores a batch atomically: events with `ON CONFLICT (device_id, seq) DO NOTHING` (one multi-row insert),
   * declared losses likewise, so a redelivered batch changes nothing. A batch without declared losses (nearly
   * all of them) is that one statement, atomic by itself; with losses, both inserts run in one transaction.
   */
  async storeBatch(
    deviceId: string,
    events: readonly EmotionEvent[],
    lost: readonly LostSequenceRange[],
  ): Promise<StoredBatch> {
    if (lost.length === 0)
      return { inserted: await insertEvents(this.database.db, deviceId, events), newLossRanges: 0 };
    return this.database.db.transaction(async (tx) => {
      const inserted = await insertEvents(tx, deviceId, events);
      const rows = await tx
        .insert(eventSequenceLosses)
        .values(lost.map((range) => ({ deviceId, fromSeq: range.fromSeq, toSeq: range.toSeq })))
        .onConflictDoNothing()
        .returning({ fromSeq: eventSequenceLosses.fromSeq });
      return { inserted, newLossRanges: rows.length };
    });
  }

  /** The acknowledged frontier of `deviceId` (0 before anything was stored). */
  async acknowledgedSeq(deviceId: string): Promise<number> {
    const rows = await this.database.db
      .select({ seq: eventAcks.highestContiguousSeq })
      .from(eventAcks)
      .where(sql`${eventAcks.deviceId} = ${deviceId}`);
    return rows[0]?.seq ?? 0;
  }

  /**
   * Recomputes the frontier from the stored rows and declared losses (never from a batch: replicas may store a
   * device's batches out of order) and raises the stored frontier to it. Returns the frontier after the call
   * and whether this call raised it.
   */
  async advanceFrontier(deviceId: string): Promise<{ highestContiguousSeq: number; advanced: boolean }> {
    const current = await this.acknowledgedSeq(deviceId);
    const reachable = await this.reachableFrom(deviceId, current);
    if (reachable <= current) return { highestContiguousSeq: current, advanced: false };
    const raised = await this.database.db
      .insert(eventAcks)
      .values({ deviceId, highestContiguousSeq: reachable })
      .onConflictDoUpdate({
        target: eventAcks.deviceId,
        set: { highestContiguousSeq: reachable, updatedAt: sql`now()` },
        setWhere: sql`${eventAcks.highestContiguousSeq} < ${reachable}`,
      })
      .returning({ seq: eventAcks.highestContiguousSeq });
    if (raised.length > 0) return { highestContiguousSeq: reachable, advanced: true };
    // Another replica got further meanwhile.
    return { highestContiguousSeq: await this.acknowledgedSeq(deviceId), advanced: false };
  }

  async continuity(deviceId: string, missingLimit: number): Promise<SequenceContinuity> {
    const highestContiguousSeq = await this.acknowledgedSeq(deviceId);
    const [stats] = rowsOf<{ stored: string; highest: string | null }>(
      await this.database.db.execute(sql`
        select count(*)::int8 as stored, max(${emotionEvents.seq})::int8 as highest
        from ${emotionEvents} where ${emotionEvents.deviceId} = ${deviceId}`),
    );
    const lostRanges = await this.database.db
      .select({ fromSeq: eventSequenceLosses.fromSeq, toSeq: eventSequenceLosses.toSeq })
      .from(eventSequenceLosses)
      .where(sql`${eventSequenceLosses.deviceId} = ${deviceId}`)
      .orderBy(eventSequenceLosses.fromSeq, eventSequenceLosses.toSeq);
    return {
      highestContiguousSeq,
      highestStoredSeq: Number(stats?.highest ?? 0),
      storedEvents: Number(stats?.stored ?? 0),
      lostRanges,
      lostEvents: countCovered(lostRanges),
      missingRanges: await this.gapsAbove(deviceId, highestContiguousSeq, missingLimit),
    };
  }

  /** Sequence ranges above `frontier` covered neither by a stored event nor a declared loss, lowest first. */
  private async gapsAbove(deviceId: string, frontier: number, limit: number): Promise<SequenceRange[]> {
    const rows = rowsOf<{ from_seq: string; to_seq: string }>(
      await this.database.db.execute(sql`
        ${coverageAbove(deviceId, frontier)}
        select (greatest(reached, ${frontier}::int8) + 1)::int8 as from_seq, (from_seq - 1)::int8 as to_seq
        from ordered where from_seq > greatest(reached, ${frontier}::int8) + 1
        order by from_seq limit ${limit}`),
    );
    return rows.map((row) => ({ fromSeq: Number(row.from_seq), toSeq: Number(row.to_seq) }));
  }

  /**
   * The highest seq reachable from `frontier` without a gap: just below the first gap, else the highest covered
   * seq. One statement, so both parts see the same snapshot (a batch committing in between cannot make the
   * answer jump over a gap it did not fill).
   */
  private async reachableFrom(deviceId: string, frontier: number): Promise<number> {
    const [row] = rowsOf<{ first_gap: string | null; highest: string | null }>(
      await this.database.db.execute(sql`
        ${coverageAbove(deviceId, frontier)}
        select
          (select min(greatest(reached, ${frontier}::int8) + 1) from ordered
            where from_seq > greatest(reached, ${frontier}::int8) + 1)::int8 as first_gap,
          (select max(to_seq) from ordered)::int8 as highest`),
    );
    const firstGap = row?.first_gap;
    if (firstGap !== null && firstGap !== undefined) return Number(firstGap) - 1;
    return Math.max(frontier, Number(row?.highest ?? 0));
  }
}

/**
 * `covered`: the stored seqs and declared lost ranges of a device above `frontier`, as intervals; `ordered`: each
 * interval with the highest end reached by the intervals sorted before it (`frontier` for the first), so an
 * interval starting more than one past that end opens a gap.
 */
function coverageAbove(deviceId: string, frontier: number) {
  return sql`
    with covered as (
      select seq as from_seq, seq as to_seq from ${emotionEvents}
        where device_id = ${deviceId} and seq > ${frontier}
      union all
      select from_seq, to_seq from ${eventSequenceLosses}
        where device_id = ${deviceId} and to_seq > ${frontier}
    ), ordered as (
      select from_seq, to_seq, coalesce(
        max(to_seq) over (order by from_seq, to_seq rows between unbounded preceding and 1 preceding),
        ${frontier}::int8) as reached
      from covered
    )`;
}

/** Inserts the events not stored yet; returns how many were new. */
async function insertEvents(
  executor: Pick<Database, 'insert'>,
  deviceId: string,
  events: readonly EmotionEvent[],
): Promise<number> {
  if (events.length === 0) return 0;
  const rows = await executor
    .insert(emotionEvents)
    .values(
      events.map((event) => ({
        deviceId,
        seq: event.seq,
        label: event.label,
        score: event.score,
        box: { x: event.box.x, y: event.box.y, width: event.box.width, height: event.box.height },
        startedAt: new Date(event.startedAt),
        durationMs: event.durationMs,
        frameIndex: event.frameIndex,
        modelId: event.modelId,
        trackId: event.trackId ?? null,
      })),
    )
    .onConflictDoNothing({ target: [emotionEvents.deviceId, emotionEvents.seq] })
    .returning({ id: emotionEvents.id });
  return rows.length;
}

function countCovered(ranges: readonly SequenceRange[]): number {
  let total = 0;
  let reached = 0;
  for (const range of ranges) {
    const from = Math.max(range.fromSeq, reached + 1);
    if (range.toSeq >= from) total += range.toSeq - from + 1;
    reached = Math.max(reached, range.toSeq);
  }
  return total;
}
