import { sql } from 'drizzle-orm';
import { type Database } from '../database/database-connection';
import { rowsOf } from '../database/rows-of';
import { devices } from '../database/schema';

/**
 * Locks the registry rows of `deviceIds` in id order, inside the caller's transaction. Statements that update many
 * devices at once (presence batches, telemetry snapshots) otherwise lock their rows in whatever order the join
 * visits them, and two such transactions deadlock (seen at 5,000 simulated devices); taking the locks in one
 * order first makes them wait for each other instead. Returns the rows locked (unknown ids have none), with
 * whether each device is decommissioned.
 */
export async function lockDeviceRowsInOrder(
  executor: Pick<Database, 'execute'>,
  deviceIds: readonly string[],
): Promise<Array<{ id: string; decommissioned: boolean }>> {
  if (deviceIds.length === 0) return [];
  return rowsOf<{ id: string; decommissioned: boolean }>(
    await executor.execute(sql`
      select ${devices.id} as id, ${devices.decommissionedAt} is not null as decommissioned from ${devices}
      where ${devices.id} = any(${sql.param(deviceIds)}::text[]) order by ${devices.id} for update`),
  );
}
