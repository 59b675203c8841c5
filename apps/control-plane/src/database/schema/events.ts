import {
  bigint,
  bigserial,
  doublePrecision,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** Face box in frame-relative coordinates, as the device reported it. */
export interface StoredBoundingBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Emotion events as devices report them (labels, scores, boxes; never image data). `id` is the global,
 * ever-increasing order used by the API's cursors and the SSE stream; `(device_id, seq)` is unique so a
 * redelivered batch stores nothing twice.
 */
export const emotionEvents = pgTable(
  'emotion_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: text('device_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    label: text('label').notNull(),
    score: doublePrecision('score').notNull(),
    box: jsonb('box').$type<StoredBoundingBox>().notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    durationMs: bigint('duration_ms', { mode: 'number' }).notNull(),
    frameIndex: bigint('frame_index', { mode: 'number' }).notNull(),
    modelId: text('model_id').notNull(),
    trackId: bigint('track_id', { mode: 'number' }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('emotion_events_device_seq_idx').on(table.deviceId, table.seq),
    index('emotion_events_started_at_idx').on(table.startedAt),
    // Per-device listings in global order (GET /events?device=…, exports, streams, deletion).
    index('emotion_events_device_id_idx').on(table.deviceId, table.id),
  ],
);

/** Sequence ranges a device declared lost (spool overflow): counted, and treated as filled by the ack. */
export const eventSequenceLosses = pgTable(
  'event_sequence_losses',
  {
    deviceId: text('device_id').notNull(),
    fromSeq: bigint('from_seq', { mode: 'number' }).notNull(),
    toSeq: bigint('to_seq', { mode: 'number' }).notNull(),
    declaredAt: timestamp('declared_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.deviceId, table.fromSeq, table.toSeq] })],
);

/** Per device, the highest sequence number up to which every event is stored or declared lost. */
export const eventAcks = pgTable('event_acks', {
  deviceId: text('device_id').primaryKey(),
  highestContiguousSeq: bigint('highest_contiguous_seq', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type EmotionEventRow = typeof emotionEvents.$inferSelect;
