import { Injectable } from '@nestjs/common';
import { type EmotionEvent, type LostSequenceRange } from '@emofleet/protocol';
import { sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { type Database } from '../database/database-connection';
import { emotionEvents, eventAcks, eventSequenceLosses } from '../database/schema';
import { rowsOf } from '../database/rows-of';

/** One device's batch to store. */
export interface BatchToStore {
  deviceId: string;
  events: readonly EmotionEvent[];
  lost: readonly LostSequenceRange[];
}

/** What storing one batch changed. */
export interface StoredBatch {
  /** Events new to the database (the rest were already stored: redelivery). */
  inserted: number;
  /** Lost ranges not declared before. */
  newLossRanges: number;
}

/** One device's frontier after `advanceFrontiers`. */
export interface AdvancedFrontier {
  deviceId: string;
  highestContiguousSeq: number;
  /** Whether this call raised it. */
  advanced: boolean;
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

@Injectable()
export class EventsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Stores one batch atomically (`storeBatches` with one batch): a redelivered batch changes nothing. */
  async storeBatch(
    deviceId: string,
    events: readonly EmotionEvent[],
    lost: readonly LostSequenceRange[],
  ): Promise<StoredBatch> {
    const [stored] = await this.storeBatches([{ deviceId, events, lost }]);
    return stored ?? { inserted: 0, newLossRanges: 0 };
  }

  /**
   * Stores the batches of many devices at once: all their events in one multi-row insert (`ON CONFLICT
   * (device_id, seq) DO NOTHING`, one array parameter per column), their declared losses likewise; atomic (one
   * statement, or one transaction when losses are declared). Answers per batch, in order, what it changed; an
   * event present in two batches counts for the first. When the statement fails, nothing of any batch is stored.
   */
  async storeBatches(batches: readonly BatchToStore[]): Promise<StoredBatch[]> {
    const rows = batches.flatMap((batch) =>
      batch.events.map((event) => ({ deviceId: batch.deviceId, event })),
    );
    const losses = batches.flatMap((batch) =>
      batch.lost.map((range) => ({ deviceId: batch.deviceId, range })),
    );
    const insertEvents = (executor: Pick<Database, 'execute'>) => insertEventRows(executor, rows);
    if (losses.length === 0) {
      const inserted = await insertEvents(this.database.db);
      return creditBatches(batches, inserted, new Set());
    }
    return this.database.db.transaction(async (tx) => {
      const inserted = await insertEvents(tx);
      const declared = rowsOf<{ device_id: string; from_seq: string; to_seq: string }>(
        await tx.execute(sql`
          insert into ${eventSequenceLosses} (device_id, from_seq, to_seq)
          select * from unnest(${sql.param(losses.map((loss) => loss.deviceId))}::text[],
            ${sql.param(losses.map((loss) => loss.range.fromSeq))}::int8[],
            ${sql.param(losses.map((loss) => loss.range.toSeq))}::int8[])
          on conflict do nothing
          returning device_id, from_seq::int8 as from_seq, to_seq::int8 as to_seq`),
      );
      return creditBatches(
        batches,
        inserted,
        new Set(declared.map((row) => lossKey(row.device_id, Number(row.from_seq), Number(row.to_seq)))),
      );
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
    const [frontier] = await this.advanceFrontiers([deviceId]);
    return frontier ?? { highestContiguousSeq: 0, advanced: false };
  }

  /**
   * `advanceFrontier` for many devices in one statement (one round trip and one commit for a whole flush):
   * each device's frontier read, its reachable seq computed and the raised ones written, all from one snapshot.
   * Answers in the order of `deviceIds` (which must not repeat).
   */
  async advanceFrontiers(deviceIds: readonly string[]): Promise<AdvancedFrontier[]> {
    if (deviceIds.length === 0) return [];
    const rows = rowsOf<{ device_id: string; frontier: string; reachable: string; raised: string | null }>(
      await this.database.db.execute(sql`
        with targets as (
          select t.device_id, coalesce(a.highest_contiguous_seq, 0)::int8 as frontier
          from unnest(${sql.param(deviceIds)}::text[]) as t(device_id)
            left join ${eventAcks} a on a.device_id = t.device_id
        ), covered as (
          select t.device_id, t.frontier, e.from_seq, e.to_seq from targets t
            cross join lateral (
              select seq as from_seq, seq as to_seq from ${emotionEvents}
                where device_id = t.device_id and seq > t.frontier
              union all
              select from_seq, to_seq from ${eventSequenceLosses}
                where device_id = t.device_id and to_seq > t.frontier) e
        ), ordered as (
          select device_id, frontier, from_seq, to_seq, greatest(coalesce(max(to_seq) over (
            partition by device_id order by from_seq, to_seq rows between unbounded preceding and 1 preceding),
            frontier), frontier) as reached
          from covered
        ), reach as (
          select t.device_id, t.frontier,
            coalesce(g.first_gap - 1, greatest(t.frontier, g.highest), t.frontier) as reachable
          from targets t left join (
            select device_id, min(reached + 1) filter (where from_seq > reached + 1) as first_gap,
              max(to_seq) as highest
            from ordered group by device_id) g on g.device_id = t.device_id
        ), raised as (
          insert into ${eventAcks} (device_id, highest_contiguous_seq)
          select device_id, reachable from reach where reachable > frontier
          on conflict (device_id) do update
            set highest_contiguous_seq = excluded.highest_contiguous_seq, updated_at = now()
            where ${eventAcks}.highest_contiguous_seq < excluded.highest_contiguous_seq
          returning device_id, highest_contiguous_seq
        )
        select r.device_id, r.frontier::int8 as frontier, r.reachable::int8 as reachable,
          x.highest_contiguous_seq::int8 as raised
        from reach r left join raised x on x.device_id = r.device_id`),
    );
    const byDevice = new Map(rows.map((row) => [row.device_id, row]));
    return Promise.all(
      deviceIds.map(async (deviceId): Promise<AdvancedFrontier> => {
        const row = byDevice.get(deviceId);
        if (row === undefined) throw new Error(`frontier query answered nothing for device ${deviceId}`);
        if (row.raised !== null)
          return { deviceId, highestContiguousSeq: Number(row.raised), advanced: true };
        // Another replica got further meanwhile: read where it got.
        if (Number(row.reachable) > Number(row.frontier))
          return { deviceId, highestContiguousSeq: await this.acknowledgedSeq(deviceId), advanced: false };
        return { deviceId, highestContiguousSeq: Number(row.frontier), advanced: false };
      }),
    );
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

/** The columns of one `emotion_events` row as array parameters carry them, with their SQL array types. */
const EVENT_COLUMNS = [
  ['device_id', 'text'],
  ['seq', 'int8'],
  ['label', 'text'],
  ['score', 'float8'],
  ['box', 'jsonb'],
  ['started_at', 'timestamptz'],
  ['duration_ms', 'int8'],
  ['frame_index', 'int8'],
  ['model_id', 'text'],
  ['track_id', 'int8'],
] as const;

type EventColumn = (typeof EVENT_COLUMNS)[number][0];

function eventColumnValues(
  deviceId: string,
  event: EmotionEvent,
): Record<EventColumn, string | number | null> {
  return {
    device_id: deviceId,
    seq: event.seq,
    label: event.label,
    score: event.score,
    box: JSON.stringify({ x: event.box.x, y: event.box.y, width: event.box.width, height: event.box.height }),
    started_at: new Date(event.startedAt).toISOString(),
    duration_ms: event.durationMs,
    frame_index: event.frameIndex,
    model_id: event.modelId,
    track_id: event.trackId ?? null,
  };
}

/**
 * Inserts the events not stored yet in one statement (one array parameter per column, so building it costs the
 * same for one row or thousands); returns the `(device, seq)` keys that were new.
 */
async function insertEventRows(
  executor: Pick<Database, 'execute'>,
  rows: readonly { deviceId: string; event: EmotionEvent }[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const values = rows.map(({ deviceId, event }) => eventColumnValues(deviceId, event));
  const inserted = rowsOf<{ device_id: string; seq: string }>(
    await executor.execute(sql`
      insert into ${emotionEvents} (${sql.raw(EVENT_COLUMNS.map(([column]) => column).join(', '))})
      select * from unnest(${sql.join(
        EVENT_COLUMNS.map(
          ([column, type]) => sql`${sql.param(values.map((row) => row[column]))}::${sql.raw(type)}[]`,
        ),
        sql`, `,
      )})
      on conflict (device_id, seq) do nothing
      returning device_id, seq::int8 as seq`),
  );
  return new Set(inserted.map((row) => eventKey(row.device_id, Number(row.seq))));
}

const eventKey = (deviceId: string, seq: number) => `${deviceId}\u0000${seq}`;
const lossKey = (deviceId: string, fromSeq: number, toSeq: number) => `${deviceId}\u0000${fromSeq}-${toSeq}`;

/** Splits what one flush inserted over its batches: each new key counts once, for the first batch holding it. */
function creditBatches(
  batches: readonly BatchToStore[],
  insertedEvents: Set<string>,
  newLosses: Set<string>,
): StoredBatch[] {
  return batches.map((batch) => {
    let inserted = 0;
    for (const event of batch.events)
      if (insertedEvents.delete(eventKey(batch.deviceId, event.seq))) inserted++;
    let newLossRanges = 0;
    for (const range of batch.lost)
      if (newLosses.delete(lossKey(batch.deviceId, range.fromSeq, range.toSeq))) newLossRanges++;
    return { inserted, newLossRanges };
  });
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
