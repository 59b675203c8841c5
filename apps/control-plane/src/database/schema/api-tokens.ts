import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * API tokens. The secret itself is never stored: `tokenHash` is the SHA-256 of the whole token string (see
 * src/auth/token-secret.ts for why a fast hash is right for 256-bit random secrets).
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role', { enum: ['viewer', 'operator', 'admin'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    /** Id of the token that created this one; null for the bootstrap admin token. */
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [index('api_tokens_created_at_idx').on(table.createdAt)],
);

export type ApiTokenRow = typeof apiTokens.$inferSelect;
