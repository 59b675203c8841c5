import { Injectable } from '@nestjs/common';
import { and, asc, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { rowsOf } from '../database/rows-of';
import { deviceCredentials, devices, type DeviceModelRef, type DeviceRow } from '../database/schema';
import { type CapabilityRequirement } from './capability-requirements';
import { lockDeviceRowsInOrder } from './device-row-locks';
import { MAX_TAGS } from './device-tags';
import { type TagRequirement } from './tag-selector';

export interface DeviceBirthRecord {
  deviceId: string;
  sessionSeq: number;
  capabilities: Record<string, unknown>;
  simulated: boolean;
  runningModel: DeviceModelRef | null;
  seenAt: Date;
}

export interface DeviceSessionState {
  deviceId: string;
  online: boolean;
  sessionSeq: number;
  seenAt: Date;
}

/** A birth or a session state, as `applyPresence` takes them. */
export type PresenceUpdate =
  | ({ kind: 'birth' } & DeviceBirthRecord)
  | ({ kind: 'state' } & DeviceSessionState);

export interface DeviceListQuery {
  online?: boolean;
  tags?: TagRequirement[];
  model?: { modelId: string; version?: string };
  capabilities?: CapabilityRequirement[];
  /** Exclusive lower bound on the id (keyset pagination). */
  after?: string;
  limit: number;
}

export interface DeviceUpdate {
  name?: string;
  /** Merge patch: a value sets the tag, null removes it. */
  tags?: Record<string, string | null>;
}

export class TooManyTagsError extends Error {
  constructor(readonly deviceId: string) {
    super(`device ${deviceId} would have more than ${MAX_TAGS} tags`);
  }
}

const notDecommissioned = () => isNull(devices.decommissionedAt);

@Injectable()
export class DevicesRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /**
   * Applies births and session states of many devices in one transaction (two statements), in any order; answers
   * per update, in order, whether it applied (a birth: whether it was the one written for its device). The rules make the order of births and states irrelevant, which is
   * what lets them be applied in batches: retained births and states arrive concurrently (after a control plane
   * restart, all at once), so the offline state of session N may come before the birth of session N.
   * - A birth registers or refreshes the device (capabilities, running model, last seen); only a birth of a session
   *   newer than the recorded one marks the device online. Births of decommissioned devices change nothing.
   * - A state marks the device online or offline for its session unless a newer session is recorded (a late last
   *   will of an old session must not mark a reconnected device offline).
   * - Of several updates of one kind for one device in a batch, the newest session's applies (the later one for
   *   the same session); the others answer false, as if they had come first.
   */
  async applyPresence(updates: readonly PresenceUpdate[]): Promise<boolean[]> {
    const births = newestPerDevice(updates, 'birth');
    const states = newestPerDevice(updates, 'state');
    const appliedStates = await this.database.db.transaction(async (tx) => {
      await lockDeviceRowsInOrder(tx, [...new Set([...births.keys(), ...states.keys()])]);
      if (births.size > 0) await tx.execute(upsertBirths([...births.values()]));
      if (states.size === 0) return new Set<string>();
      const rows = rowsOf<{ id: string }>(await tx.execute(applySessionStates([...states.values()])));
      return new Set(rows.map((row) => row.id));
    });
    return updates.map((update) =>
      update.kind === 'birth'
        ? births.get(update.deviceId) === update
        : states.get(update.deviceId) === update && appliedStates.has(update.deviceId),
    );
  }

  /** Devices in service matching every filter, by id. */
  async list(query: DeviceListQuery): Promise<DeviceRow[]> {
    const conditions: SQL[] = [notDecommissioned()];
    if (query.online !== undefined) conditions.push(eq(devices.online, query.online));
    for (const requirement of query.tags ?? []) conditions.push(tagCondition(requirement));
    if (query.model !== undefined) {
      conditions.push(sql`${devices.currentModel} ->> 'modelId' = ${query.model.modelId}`);
      if (query.model.version !== undefined) {
        conditions.push(sql`${devices.currentModel} ->> 'version' = ${query.model.version}`);
      }
    }
    for (const requirement of query.capabilities ?? []) conditions.push(capabilityCondition(requirement));
    if (query.after !== undefined) conditions.push(gt(devices.id, query.after));
    return this.database.db
      .select()
      .from(devices)
      .where(and(...conditions))
      .orderBy(asc(devices.id))
      .limit(query.limit);
  }

  /** A device, decommissioned or not. */
  async findById(deviceId: string): Promise<DeviceRow | undefined> {
    const rows = await this.database.db.select().from(devices).where(eq(devices.id, deviceId)).limit(1);
    return rows[0];
  }

  /** Applies a name change and a tag merge patch atomically; undefined when no such device is in service. */
  async update(deviceId: string, update: DeviceUpdate): Promise<DeviceRow | undefined> {
    return this.database.db.transaction(async (tx) => {
      const tags = update.tags;
      const set = {
        updatedAt: sql`now()`,
        ...(update.name === undefined ? {} : { name: update.name }),
        ...(tags === undefined
          ? {}
          : {
              // Tag keys cannot contain `,`, `{`, `}`, quotes or spaces: the text[] literal needs no escaping.
              tags: sql`(${devices.tags} || ${JSON.stringify(
                Object.fromEntries(Object.entries(tags).filter(([, value]) => value !== null)),
              )}::jsonb) - ${`{${Object.keys(tags)
                .filter((key) => tags[key] === null)
                .join(',')}}`}::text[]`,
            }),
      };
      const [row] = await tx
        .update(devices)
        .set(set)
        .where(and(eq(devices.id, deviceId), notDecommissioned()))
        .returning();
      if (row && Object.keys(row.tags).length > MAX_TAGS) throw new TooManyTagsError(deviceId);
      return row;
    });
  }

  /**
   * Marks the device decommissioned and deletes its stored secret, in one transaction. Returns the row, or
   * undefined when no such device is in service.
   */
  async decommission(deviceId: string): Promise<DeviceRow | undefined> {
    return this.database.db.transaction(async (tx) => {
      const [row] = await tx
        .update(devices)
        .set({ decommissionedAt: sql`now()`, online: false, updatedAt: sql`now()` })
        .where(and(eq(devices.id, deviceId), notDecommissioned()))
        .returning();
      if (row) await tx.delete(deviceCredentials).where(eq(deviceCredentials.deviceId, deviceId));
      return row;
    });
  }
}

export function tagCondition(requirement: TagRequirement): SQL {
  const tag = sql`${devices.tags} ->> ${requirement.key}`;
  switch (requirement.op) {
    case 'equals':
      return sql`${tag} = ${requirement.value}`;
    case 'not-equals':
      return sql`${tag} is distinct from ${requirement.value}`;
    case 'exists':
      return sql`${tag} is not null`;
    case 'not-exists':
      return sql`${tag} is null`;
  }
}

/** A list capability (e.g. detectorBackends) must contain the value; any other must equal it as text. */
function capabilityCondition(requirement: CapabilityRequirement): SQL {
  // Path levels are letters, digits and `_` only (see capability-requirements.ts): a safe text[] literal.
  const path = `{${requirement.path.join(',')}}`;
  const node = sql`(${devices.capabilities} #> ${path}::text[])`;
  return sql`(case jsonb_typeof(${node})
    when 'array' then ${node} @> jsonb_build_array(${requirement.value}::text)
    else (${devices.capabilities} #>> ${path}::text[]) = ${requirement.value} end)`;
}

/** Per device, the update of `kind` with the newest session (of equal sessions, the later one). */
function newestPerDevice<K extends PresenceUpdate['kind']>(
  updates: readonly PresenceUpdate[],
  kind: K,
): Map<string, Extract<PresenceUpdate, { kind: K }>> {
  const newest = new Map<string, Extract<PresenceUpdate, { kind: K }>>();
  for (const update of updates) {
    if (update.kind !== kind) continue;
    const kept = newest.get(update.deviceId);
    if (!kept || kept.sessionSeq <= update.sessionSeq)
      newest.set(update.deviceId, update as Extract<PresenceUpdate, { kind: K }>);
  }
  return newest;
}

/** One array parameter per column, so the statement costs the same to build for one device or thousands. */
function upsertBirths(births: readonly DeviceBirthRecord[]): SQL {
  const newerSession = sql`(${devices.sessionSeq} is null or ${devices.sessionSeq} < excluded.session_seq)`;
  return sql`
    insert into ${devices} (id, name, capabilities, simulated, online, session_seq, current_model, last_seen_at)
    select b.id, b.id, b.capabilities, b.simulated, true, b.session_seq, b.current_model, b.seen_at
    from unnest(${sql.param(births.map((birth) => birth.deviceId))}::text[],
      ${sql.param(births.map((birth) => JSON.stringify(birth.capabilities)))}::jsonb[],
      ${sql.param(births.map((birth) => birth.simulated))}::bool[],
      ${sql.param(births.map((birth) => birth.sessionSeq))}::int8[],
      ${sql.param(births.map((birth) => (birth.runningModel ? JSON.stringify(birth.runningModel) : null)))}::jsonb[],
      ${sql.param(births.map((birth) => birth.seenAt.toISOString()))}::timestamptz[])
      as b(id, capabilities, simulated, session_seq, current_model, seen_at)
    on conflict (id) do update set
      capabilities = excluded.capabilities,
      simulated = excluded.simulated,
      online = case when ${newerSession} then true else ${devices.online} end,
      session_seq = case when ${newerSession} then excluded.session_seq else ${devices.sessionSeq} end,
      current_model = excluded.current_model,
      last_seen_at = excluded.last_seen_at,
      updated_at = now()
    where ${devices.decommissionedAt} is null`;
}

/** Sets presence per device for the states whose session is not older than the recorded one; returns their ids. */
function applySessionStates(states: readonly DeviceSessionState[]): SQL {
  return sql`
    update ${devices} set online = s.online, session_seq = s.session_seq, last_seen_at = s.seen_at,
      updated_at = now()
    from unnest(${sql.param(states.map((state) => state.deviceId))}::text[],
      ${sql.param(states.map((state) => state.online))}::bool[],
      ${sql.param(states.map((state) => state.sessionSeq))}::int8[],
      ${sql.param(states.map((state) => state.seenAt.toISOString()))}::timestamptz[])
      as s(id, online, session_seq, seen_at)
    where ${devices.id} = s.id and ${devices.decommissionedAt} is null
      and (${devices.sessionSeq} is null or ${devices.sessionSeq} <= s.session_seq)
    returning ${devices.id} as id`;
}
