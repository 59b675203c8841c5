import { type SQL, sql } from 'drizzle-orm';
import { type Transaction } from '../database/database-connection';
import { rolloutTargets } from '../database/schema';
import { type TargetPatch } from './rollout-draft';

/** The PostgreSQL type of each patchable column, for its `unnest` array (every key of `TargetPatch`). */
const COLUMN_TYPES: Readonly<Record<keyof TargetPatch, string>> = {
  state: 'text',
  phaseIndex: 'integer',
  attempts: 'integer',
  jobId: 'text',
  jobStatus: 'text',
  jobVersion: 'integer',
  jobDetails: 'jsonb',
  jobDesiredVersion: 'integer',
  startedAt: 'timestamptz',
  finishedAt: 'timestamptz',
  installDeadline: 'timestamptz',
  measuredFps: 'float8',
  measuredAccuracy: 'float8',
  sessionSeqAtSwitch: 'bigint',
  switchedAt: 'timestamptz',
  soakUntil: 'timestamptz',
  failureType: 'text',
  failureReason: 'text',
  actionClaimedAt: 'timestamptz',
  actionError: 'text',
};

/** Rows per statement at most. */
const ROWS_PER_STATEMENT = 5_000;

/**
 * Writes a step's target patches: one UPDATE per patch shape (the set of columns a patch sets; a step has a
 * few), each for all the devices with that shape through `unnest`, instead of one statement per device. A step of
 * a 10,000-device rollout (an abort, a phase of installs counted healthy) writes thousands of targets.
 */
export async function writeTargetPatches(
  tx: Transaction,
  rolloutId: string,
  patches: ReadonlyMap<string, TargetPatch>,
): Promise<void> {
  const byShape = new Map<
    string,
    { columns: Array<keyof TargetPatch>; rows: Array<[string, TargetPatch]> }
  >();
  for (const [deviceId, patch] of patches) {
    const columns = (Object.keys(patch) as Array<keyof TargetPatch>)
      .filter((column) => patch[column] !== undefined)
      .sort();
    if (columns.length === 0) continue;
    const shape = columns.join(',');
    const group = byShape.get(shape) ?? { columns, rows: [] };
    group.rows.push([deviceId, patch]);
    byShape.set(shape, group);
  }
  for (const { columns, rows } of byShape.values()) {
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      await tx.execute(updateStatement(rolloutId, columns, rows.slice(start, start + ROWS_PER_STATEMENT)));
    }
  }
}

function updateStatement(
  rolloutId: string,
  columns: ReadonlyArray<keyof TargetPatch>,
  rows: ReadonlyArray<[string, TargetPatch]>,
): SQL {
  const names = columns.map((column) => sql.identifier(rolloutTargets[column].name));
  const arrays = columns.map(
    (column) =>
      sql`${sql.param(rows.map(([, patch]) => driverValue(patch[column])))}::${sql.raw(COLUMN_TYPES[column])}[]`,
  );
  return sql`
    update ${rolloutTargets}
    set ${sql.join(
      names.map((name) => sql`${name} = patch.${name}`),
      sql`, `,
    )}, updated_at = now()
    from unnest(${sql.param(rows.map(([deviceId]) => deviceId))}::text[], ${sql.join(arrays, sql`, `)})
      as patch(device_id, ${sql.join(names, sql`, `)})
    where ${rolloutTargets.rolloutId} = ${rolloutId} and ${rolloutTargets.deviceId} = patch.device_id`;
}

function driverValue(value: TargetPatch[keyof TargetPatch]): string | number | null {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  return value;
}
