import { sql } from 'drizzle-orm';
import { bigint, boolean, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** A model version as devices report and receive it. */
export interface DeviceModelRef {
  modelId: string;
  version: string;
}

/** The device registry: identity, tags, capabilities from the birth message, presence. */
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
    /** The model the detector runs, from the newest birth message. */
    currentModel: jsonb('current_model').$type<DeviceModelRef>(),
    /** The model the device should run (set by rollouts). */
    desiredModel: jsonb('desired_model').$type<DeviceModelRef>(),
    /** The newest telemetry message as received. */
    lastTelemetry: jsonb('last_telemetry').$type<Record<string, unknown>>(),
    lastTelemetryAt: timestamp('last_telemetry_at', { withTimezone: true }),
    /** Set by decommissioning; a decommissioned device is hidden and its births are ignored. */
    decommissionedAt: timestamp('decommissioned_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('devices_online_idx').on(table.online)],
);

export type DeviceRow = typeof devices.$inferSelect;
