import { sql } from 'drizzle-orm';
import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Enrolment tokens: what a new device presents once to `POST /enrol` to get its own credentials. Stored as the
 * SHA-256 of the token string. `maxUses` 1 is a one-time token; null means any number of uses until expiry.
 */
export const enrolmentTokens = pgTable('enrolment_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  maxUses: integer('max_uses'),
  uses: integer('uses').notNull().default(0),
  /** Tags every device enrolled with this token starts with. */
  tags: jsonb('tags')
    .$type<Record<string, string>>()
    .notNull()
    .default(sql`'{}'::jsonb`),
  createdBy: text('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export type EnrolmentTokenRow = typeof enrolmentTokens.$inferSelect;
