import { Injectable } from '@nestjs/common';
import { and, asc, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { deviceCredentials, devices, type DeviceModelRef, type DeviceRow } from '../database/schema';
import { type CapabilityRequirement } from './capability-requirements';
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
   * Registers or refreshes a device from its birth; births of decommissioned devices change nothing. Only the birth
   * of a session newer than the one recorded marks the device online: retained births and states are handled
   * concurrently (after a control plane restart, all at once), so the offline state of session N may be recorded
   * before the birth of session N, which must then leave the device offline; an older session's birth changes
   * neither presence nor session.
   */
  async upsertBirth(record: DeviceBirthRecord): Promise<void> {
    const newerSession = sql`(${devices.sessionSeq} is null or ${devices.sessionSeq} < ${record.sessionSeq})`;
    await this.database.db
      .insert(devices)
      .values({
        id: record.deviceId,
        name: record.deviceId,
        capabilities: record.capabilities,
        simulated: record.simulated,
        online: true,
        sessionSeq: record.sessionSeq,
        currentModel: record.runningModel,
        lastSeenAt: record.seenAt,
      })
      .onConflictDoUpdate({
        target: devices.id,
        set: {
          capabilities: record.capabilities,
          simulated: record.simulated,
          online: sql`case when ${newerSession} then true else ${devices.online} end`,
          sessionSeq: sql`case when ${newerSession} then ${record.sessionSeq} else ${devices.sessionSeq} end`,
          currentModel: record.runningModel,
          lastSeenAt: record.seenAt,
          updatedAt: sql`now()`,
        },
        setWhere: notDecommissioned(),
      });
  }

  /**
   * Marks the device online or offline for session `sessionSeq`, unless we already know a newer session
   * (a late last will of an old session must not mark a reconnected device offline). Returns whether it applied.
   */
  async applySessionState(
    deviceId: string,
    online: boolean,
    sessionSeq: number,
    seenAt: Date,
  ): Promise<boolean> {
    const updated = await this.database.db
      .update(devices)
      .set({ online, sessionSeq, lastSeenAt: seenAt, updatedAt: sql`now()` })
      .where(
        and(
          eq(devices.id, deviceId),
          notDecommissioned(),
          sql`(${devices.sessionSeq} is null or ${devices.sessionSeq} <= ${sessionSeq})`,
        ),
      )
      .returning({ id: devices.id });
    return updated.length > 0;
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
