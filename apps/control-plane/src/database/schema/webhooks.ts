import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** What a webhook can receive: stored emotion events, and rollout transitions (rollout_events). */
export const WEBHOOK_EVENT_TYPES = ['emotion-event', 'rollout'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The event filter of a webhook: `types` (default emotion events only), and for emotion events the
 * query-parameter form of `GET /events`.
 */
export interface WebhookFilter {
  types?: WebhookEventType[];
  device?: string;
  tags?: string;
  label?: string;
  minScore?: number;
  model?: string;
}

/** A receiver of emotion events: deliveries are signed with `secret` (HMAC-SHA256). */
export const webhooks = pgTable('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** The shared signing secret (needed in clear to sign; never returned by the API). */
  secret: text('secret').notNull(),
  filter: jsonb('filter')
    .$type<WebhookFilter>()
    .notNull()
    .default(sql`'{}'::jsonb`),
  enabled: boolean('enabled').notNull().default(true),
  /** Why the webhook was disabled automatically (null while enabled or when disabled by no one). */
  disabledReason: text('disabled_reason'),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  /** Highest event id already turned into deliveries. */
  cursorEventId: bigint('cursor_event_id', { mode: 'number' }).notNull(),
  /** Highest rollout event id already turned into deliveries. */
  rolloutCursorEventId: bigint('rollout_cursor_event_id', { mode: 'number' }).notNull().default(0),
  createdBy: text('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * One event to one webhook: the delivery log. `event_id` is an emotion event's or a rollout event's id, as
 * `kind` says; `(webhook_id, kind, event_id)` is unique, so nothing is queued twice.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<WebhookEventType>().notNull().default('emotion-event'),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    status: text('status').$type<WebhookDeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('webhook_deliveries_webhook_kind_event_idx').on(table.webhookId, table.kind, table.eventId),
    index('webhook_deliveries_webhook_id_idx').on(table.webhookId, table.id),
  ],
);

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
