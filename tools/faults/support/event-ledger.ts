import { type ControlPlaneApi } from './control-plane-api';
import { type PrivatePostgres } from './private-postgres';

/** One device's events: what it generated against what the control plane holds. */
export interface DeviceEventAccount {
  readonly deviceId: string;
  /** Highest seq the device assigned (seqs 1..generated were generated). */
  readonly generated: number;
  /** Rows in `emotion_events`. */
  readonly stored: number;
  /** Seqs in 1..generated the device declared lost (spool overflow), stored or not. */
  readonly declared: number;
  /** Declared lost and not stored: reported, never silent. */
  readonly declaredLost: number;
  /** Seqs in 1..generated neither stored nor declared lost: silently lost. */
  readonly lost: number;
  /** Extra copies of a (device, seq) in the database or in `GET /events`. */
  readonly duplicated: number;
  /** Stored seqs above `generated` (a reused or invented seq). */
  readonly unexpected: number;
  /** Lost seqs, as ranges, for the report. */
  readonly lostRanges: string;
}

export interface EventTotals {
  generated: number;
  stored: number;
  declaredLost: number;
  lost: number;
  duplicated: number;
  unexpected: number;
}

export function totals(accounts: readonly DeviceEventAccount[]): EventTotals {
  const sum = (pick: (account: DeviceEventAccount) => number) =>
    accounts.reduce((total, account) => total + pick(account), 0);
  return {
    generated: sum((a) => a.generated),
    stored: sum((a) => a.stored),
    declaredLost: sum((a) => a.declaredLost),
    lost: sum((a) => a.lost),
    duplicated: sum((a) => a.duplicated),
    unexpected: sum((a) => a.unexpected),
  };
}

/**
 * Accounts for every device's events by sequence number: the rows of `emotion_events` and the declared losses
 * in `event_sequence_losses` (database state), and the listing of `GET /events` (what API clients see).
 */
export async function accountEvents(
  database: PrivatePostgres,
  api: ControlPlaneApi,
  generatedByDevice: ReadonlyMap<string, number>,
): Promise<DeviceEventAccount[]> {
  const accounts: DeviceEventAccount[] = [];
  for (const [deviceId, generated] of generatedByDevice) {
    const { seqs, losses } = await database.query(async (client) => {
      const rows = await client.query<{ seq: string }>(
        'select seq from emotion_events where device_id = $1 order by seq',
        [deviceId],
      );
      const lossRows = await client.query<{ from_seq: string; to_seq: string }>(
        'select from_seq, to_seq from event_sequence_losses where device_id = $1',
        [deviceId],
      );
      return {
        seqs: rows.rows.map((row) => Number(row.seq)),
        losses: lossRows.rows.map((row) => ({ from: Number(row.from_seq), to: Number(row.to_seq) })),
      };
    });
    const listed = await api.eventsOf(deviceId);
    const storedSet = new Set(seqs);
    const listedSet = new Set(listed.map((event) => event.seq));
    const declared = new Set<number>();
    for (const { from, to } of losses)
      for (let seq = Math.max(1, from); seq <= Math.min(to, generated); seq += 1) declared.add(seq);
    const missing: number[] = [];
    for (let seq = 1; seq <= generated; seq += 1) {
      if (!storedSet.has(seq) && !declared.has(seq)) missing.push(seq);
    }
    const listedMissing = [...storedSet].filter((seq) => !listedSet.has(seq)).length;
    accounts.push({
      deviceId,
      generated,
      stored: seqs.length,
      declared: declared.size,
      declaredLost: [...declared].filter((seq) => !storedSet.has(seq)).length,
      // A stored event the API does not list is as lost to its users as one never stored.
      lost: missing.length + listedMissing,
      duplicated: seqs.length - storedSet.size + (listed.length - listedSet.size),
      unexpected: seqs.filter((seq) => seq > generated).length,
      lostRanges: asRanges(missing),
    });
  }
  return accounts;
}

function asRanges(seqs: readonly number[]): string {
  const ranges: string[] = [];
  let start: number | undefined;
  let previous: number | undefined;
  for (const seq of [...seqs, Number.NaN]) {
    if (previous !== undefined && seq === previous + 1) {
      previous = seq;
      continue;
    }
    if (start !== undefined && previous !== undefined)
      ranges.push(start === previous ? `${start}` : `${start}-${previous}`);
    start = seq;
    previous = seq;
  }
  return ranges.slice(0, 10).join(',') + (ranges.length > 10 ? ',…' : '');
}
