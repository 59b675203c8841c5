import { bigserial, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Every mutating API call (and every refused one): who, what, when, and how it ended. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    /** The API token that made the call; null for public routes and refused anonymous calls. */
    actorTokenId: text('actor_token_id'),
    actorName: text('actor_name'),
    actorRole: text('actor_role'),
    method: text('method').notNull(),
    /** The route template (`/devices/:id`), so entries group by endpoint. */
    route: text('route').notNull(),
    /** The concrete request path. */
    path: text('path').notNull(),
    /** The id of the resource acted on: the `:id` parameter, else the id of what a POST created. */
    targetId: text('target_id'),
    status: integer('status').notNull(),
    sourceIp: text('source_ip'),
  },
  (table) => [
    index('audit_log_actor_idx').on(table.actorTokenId, table.id),
    index('audit_log_target_idx').on(table.targetId, table.id),
  ],
);

export type AuditLogRow = typeof auditLog.$inferSelect;
