import { Injectable } from '@nestjs/common';
import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { deviceCredentials, devices, enrolmentTokens, type EnrolmentTokenRow } from '../database/schema';

export type NewEnrolmentToken = Omit<
  typeof enrolmentTokens.$inferInsert,
  'uses' | 'createdAt' | 'lastUsedAt' | 'revokedAt'
>;

export interface NewEnrolledDevice {
  id: string;
  name: string;
  capabilities: Record<string, unknown> | null;
  secretHash: string;
}

export type EnrolmentOutcome =
  | { ok: true; token: EnrolmentTokenRow }
  | { ok: false; token: EnrolmentTokenRow | undefined };

@Injectable()
export class EnrolmentRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  async insertToken(token: NewEnrolmentToken): Promise<EnrolmentTokenRow> {
    const [row] = await this.database.db.insert(enrolmentTokens).values(token).returning();
    if (!row) throw new Error(`inserting enrolment token ${token.id} returned no row`);
    return row;
  }

  async listTokens(limit: number, after?: string): Promise<EnrolmentTokenRow[]> {
    return this.database.db
      .select()
      .from(enrolmentTokens)
      .where(after === undefined ? undefined : gt(enrolmentTokens.id, after))
      .orderBy(asc(enrolmentTokens.id))
      .limit(limit);
  }

  async revokeToken(id: string): Promise<EnrolmentTokenRow | undefined> {
    const [row] = await this.database.db
      .update(enrolmentTokens)
      .set({ revokedAt: sql`coalesce(${enrolmentTokens.revokedAt}, now())` })
      .where(eq(enrolmentTokens.id, id))
      .returning();
    return row;
  }

  /**
   * In one transaction: takes one use of the enrolment token (only if it is usable: not revoked, not expired,
   * uses left; the conditional update makes concurrent replays of a one-time token lose), registers the device
   * with the token's tags and stores its secret's hash, then runs `beforeCommit` (the broker grant): if that
   * fails, nothing is kept and the use is not consumed. Without a usable token, returns the token row (if any)
   * so the caller can say why.
   */
  async enrol(
    tokenHash: string,
    device: NewEnrolledDevice,
    beforeCommit: () => Promise<void>,
  ): Promise<EnrolmentOutcome> {
    return this.database.db.transaction(async (tx) => {
      const [token] = await tx
        .update(enrolmentTokens)
        .set({ uses: sql`${enrolmentTokens.uses} + 1`, lastUsedAt: sql`now()` })
        .where(
          and(
            eq(enrolmentTokens.tokenHash, tokenHash),
            isNull(enrolmentTokens.revokedAt),
            gt(enrolmentTokens.expiresAt, sql`now()`),
            or(isNull(enrolmentTokens.maxUses), sql`${enrolmentTokens.uses} < ${enrolmentTokens.maxUses}`),
          ),
        )
        .returning();
      if (!token) {
        const [existing] = await tx
          .select()
          .from(enrolmentTokens)
          .where(eq(enrolmentTokens.tokenHash, tokenHash))
          .limit(1);
        return { ok: false, token: existing };
      }
      await tx.insert(devices).values({
        id: device.id,
        name: device.name,
        tags: token.tags,
        capabilities: device.capabilities,
      });
      await tx.insert(deviceCredentials).values({
        deviceId: device.id,
        secretHash: device.secretHash,
        enrolmentTokenId: token.id,
      });
      await beforeCommit();
      return { ok: true, token };
    });
  }
}
