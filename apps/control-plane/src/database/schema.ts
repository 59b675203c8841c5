import { sql } from 'drizzle-orm';
import { bigint, boolean, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The one schema for both PostgreSQL and embedded PGlite. Change it, then run
 * `npm run db:generate -w @emofleet/control-plane` to write the next SQL migration.
 */
export const devices = pgTable(
  'devices',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    tags: jsonb('tags')
      .$type<Record<string, string>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    capabilities: jsonb('capabilities').$type<Record<string, unknown>>(),
    online: boolean('online').notNull().default(false),
    /** Session sequence (Sparkplug-style bdSeq) of the newest session we heard of; stale wills are ignored. */
    sessionSeq: bigint('session_seq', { mode: 'number' }),
    simulated: boolean('simulated').notNull().default(false),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('devices_online_idx').on(table.online)],
);

export type DeviceRow = typeof devices.$inferSelect;
