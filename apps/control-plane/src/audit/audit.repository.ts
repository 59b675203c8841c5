import { Injectable } from '@nestjs/common';
import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { auditLog, type AuditLogRow } from '../database/schema';

export type NewAuditEntry = Omit<typeof auditLog.$inferInsert, 'id' | 'occurredAt'>;

export interface AuditQuery {
  actorTokenId?: string;
  method?: string;
  route?: string;
  targetId?: string;
  status?: number;
  since?: Date;
  until?: Date;
  /** Exclusive upper bound on the id (pages go from newest to oldest). */
  before?: number;
  limit: number;
}

@Injectable()
export class AuditRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  async insert(entry: NewAuditEntry): Promise<void> {
    await this.database.db.insert(auditLog).values(entry);
  }

  async list(query: AuditQuery): Promise<AuditLogRow[]> {
    const conditions: SQL[] = [];
    if (query.actorTokenId !== undefined) conditions.push(eq(auditLog.actorTokenId, query.actorTokenId));
    if (query.method !== undefined) conditions.push(eq(auditLog.method, query.method));
    if (query.route !== undefined) conditions.push(eq(auditLog.route, query.route));
    if (query.targetId !== undefined) conditions.push(eq(auditLog.targetId, query.targetId));
    if (query.status !== undefined) conditions.push(eq(auditLog.status, query.status));
    if (query.since !== undefined) conditions.push(gte(auditLog.occurredAt, query.since));
    if (query.until !== undefined) conditions.push(lte(auditLog.occurredAt, query.until));
    if (query.before !== undefined) conditions.push(lt(auditLog.id, query.before));
    return this.database.db
      .select()
      .from(auditLog)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(desc(auditLog.id))
      .limit(query.limit);
  }
}
