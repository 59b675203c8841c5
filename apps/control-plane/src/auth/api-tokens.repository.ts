import { Injectable } from '@nestjs/common';
import { and, asc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { apiTokens, type ApiTokenRow } from '../database/schema';
import { type ApiRole } from './roles';

export interface NewApiToken {
  id: string;
  name: string;
  role: ApiRole;
  tokenHash: string;
  createdBy: string | null;
  expiresAt: Date | null;
}

/** How often `last_used_at` is written for a busy token (one write per token per interval at most). */
const LAST_USED_RESOLUTION_SECONDS = 60;

/** Arbitrary constant naming the advisory lock that serialises admin token bootstrap across replicas. */
const ADMIN_BOOTSTRAP_LOCK = 0x656d6601;

/** Admin tokens that are neither revoked nor expired. */
const usableAdmin = () =>
  and(
    eq(apiTokens.role, 'admin'),
    isNull(apiTokens.revokedAt),
    or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`)),
  );

@Injectable()
export class ApiTokensRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  async insert(token: NewApiToken): Promise<ApiTokenRow> {
    const [row] = await this.database.db.insert(apiTokens).values(token).returning();
    if (!row) throw new Error(`inserting API token ${token.id} returned no row`);
    return row;
  }

  async findByHash(tokenHash: string): Promise<ApiTokenRow | undefined> {
    const rows = await this.database.db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.tokenHash, tokenHash))
      .limit(1);
    return rows[0];
  }

  async findById(id: string): Promise<ApiTokenRow | undefined> {
    const rows = await this.database.db.select().from(apiTokens).where(eq(apiTokens.id, id)).limit(1);
    return rows[0];
  }

  /** Keyset pagination by id; `after` is the last id of the previous page. */
  async list(limit: number, after?: string): Promise<ApiTokenRow[]> {
    return this.database.db
      .select()
      .from(apiTokens)
      .where(after === undefined ? undefined : gt(apiTokens.id, after))
      .orderBy(asc(apiTokens.id))
      .limit(limit);
  }

  async markUsed(id: string): Promise<void> {
    await this.database.db
      .update(apiTokens)
      .set({ lastUsedAt: sql`now()` })
      .where(
        and(
          eq(apiTokens.id, id),
          or(
            isNull(apiTokens.lastUsedAt),
            lt(apiTokens.lastUsedAt, sql`now() - make_interval(secs => ${LAST_USED_RESOLUTION_SECONDS})`),
          ),
        ),
      );
  }

  async revoke(id: string): Promise<ApiTokenRow | undefined> {
    const [row] = await this.database.db
      .update(apiTokens)
      .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
      .where(eq(apiTokens.id, id))
      .returning();
    return row;
  }

  /** Admin tokens that are neither revoked nor expired, other than `exceptId`. */
  async countUsableAdmins(exceptId?: string): Promise<number> {
    const rows = await this.database.db
      .select({ count: sql<number>`count(*)::int` })
      .from(apiTokens)
      .where(and(usableAdmin(), exceptId === undefined ? undefined : sql`${apiTokens.id} <> ${exceptId}`));
    return rows[0]?.count ?? 0;
  }

  /**
   * Stores the operator-configured admin token under a fixed id, replacing the hash if the configured value
   * changed (the previous value stops working) and un-revoking it.
   */
  async upsertConfiguredAdmin(id: string, name: string, tokenHash: string): Promise<void> {
    await this.database.db
      .insert(apiTokens)
      .values({ id, name, role: 'admin', tokenHash, createdBy: null, expiresAt: null })
      .onConflictDoUpdate({
        target: apiTokens.id,
        set: { tokenHash, role: 'admin', revokedAt: null, expiresAt: null },
      });
  }

  /**
   * Inserts `token` only when no usable admin token exists, serialised across replicas by an advisory lock.
   * Returns whether it was inserted.
   */
  async insertIfNoUsableAdmin(token: NewApiToken): Promise<boolean> {
    return this.database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${ADMIN_BOOTSTRAP_LOCK})`);
      const rows = await tx
        .select({ count: sql<number>`count(*)::int` })
        .from(apiTokens)
        .where(usableAdmin());
      if ((rows[0]?.count ?? 0) > 0) return false;
      await tx.insert(apiTokens).values(token);
      return true;
    });
  }
}
