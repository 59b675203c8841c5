import { Injectable } from '@nestjs/common';
import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { devices, type DeviceRow } from '../database/schema';

export interface DeviceBirthRecord {
  deviceId: string;
  sessionSeq: number;
  capabilities: Record<string, unknown>;
  simulated: boolean;
  seenAt: Date;
}

export interface DeviceListQuery {
  online?: boolean;
  /** Exclusive lower bound on the id (keyset pagination). */
  after?: string;
  limit: number;
}

@Injectable()
export class DevicesRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  async upsertBirth(record: DeviceBirthRecord): Promise<void> {
    await this.database.db
      .insert(devices)
      .values({
        id: record.deviceId,
        name: record.deviceId,
        capabilities: record.capabilities,
        simulated: record.simulated,
        online: true,
        sessionSeq: record.sessionSeq,
        lastSeenAt: record.seenAt,
      })
      .onConflictDoUpdate({
        target: devices.id,
        set: {
          capabilities: record.capabilities,
          simulated: record.simulated,
          online: true,
          sessionSeq: record.sessionSeq,
          lastSeenAt: record.seenAt,
          updatedAt: sql`now()`,
        },
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
          sql`(${devices.sessionSeq} is null or ${devices.sessionSeq} <= ${sessionSeq})`,
        ),
      )
      .returning({ id: devices.id });
    return updated.length > 0;
  }

  async list(query: DeviceListQuery): Promise<DeviceRow[]> {
    const conditions: SQL[] = [];
    if (query.online !== undefined) conditions.push(eq(devices.online, query.online));
    if (query.after !== undefined) conditions.push(gt(devices.id, query.after));
    return this.database.db
      .select()
      .from(devices)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(asc(devices.id))
      .limit(query.limit);
  }

  async findById(deviceId: string): Promise<DeviceRow | undefined> {
    const rows = await this.database.db.select().from(devices).where(eq(devices.id, deviceId)).limit(1);
    return rows[0];
  }
}
