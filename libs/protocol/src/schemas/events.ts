import { z } from 'zod';
import { deviceIdSchema } from '../identifiers';
import {
  epochMillisSchema,
  fractionSchema,
  modelIdSchema,
  nonNegativeIntegerSchema,
  protocolVersionSchema,
  sequenceNumberSchema,
} from './common';

/** Largest number of events in one batch. */
export const MAX_EVENTS_PER_BATCH = 500;

/** Tolerance for rounding when checking that a box stays inside the frame. */
export const BOX_EPSILON = 1e-6;

/** Face box in frame-relative coordinates: (0,0) is the top-left corner, (1,1) the bottom-right. */
export const boundingBoxSchema = z
  .object({ x: fractionSchema, y: fractionSchema, width: fractionSchema, height: fractionSchema })
  .refine((b) => b.x + b.width <= 1 + BOX_EPSILON && b.y + b.height <= 1 + BOX_EPSILON, {
    message: 'box must lie inside the frame (x + width <= 1 and y + height <= 1)',
  });

/** One tracked, debounced expression: a face that kept one label for `durationMs`. */
export const emotionEventSchema = z.object({
  /** Per-device sequence number, starting at 1, incremented by one per event, never reused. */
  seq: sequenceNumberSchema.min(1),
  label: z.string().min(1).max(64),
  score: fractionSchema,
  box: boundingBoxSchema,
  startedAt: epochMillisSchema,
  durationMs: nonNegativeIntegerSchema,
  /** Index of the first frame of the event in the source. */
  frameIndex: nonNegativeIntegerSchema,
  modelId: modelIdSchema,
  /** Tracker id of the face, unique within one agent run. */
  trackId: nonNegativeIntegerSchema.optional(),
});

/** Sequence numbers the device will never send: dropped because its spool overflowed. */
export const lostSequenceRangeSchema = z
  .object({ fromSeq: sequenceNumberSchema.min(1), toSeq: sequenceNumberSchema.min(1) })
  .refine((r) => r.fromSeq <= r.toSeq, { message: 'fromSeq must be <= toSeq' });

/**
 * A batch of events in ascending `seq` order. `lost` declares ranges the device dropped (spool overflow) so the
 * control plane counts the loss and can advance its contiguous acknowledgement past the gap.
 */
export const eventBatchMessageSchema = z
  .object({
    v: protocolVersionSchema,
    deviceId: deviceIdSchema,
    events: z.array(emotionEventSchema).max(MAX_EVENTS_PER_BATCH),
    lost: z.array(lostSequenceRangeSchema).max(64).optional(),
  })
  .superRefine((batch, ctx) => {
    if (batch.events.length === 0 && (batch.lost === undefined || batch.lost.length === 0)) {
      ctx.addIssue({
        code: 'custom',
        message: 'batch carries neither events nor lost ranges',
        path: ['events'],
      });
    }
    batch.events.forEach((event, index) => {
      const previous = batch.events[index - 1];
      if (previous !== undefined && event.seq <= previous.seq) {
        ctx.addIssue({
          code: 'custom',
          message: `seq ${event.seq} does not follow ${previous.seq}: a batch must be in strictly ascending seq order`,
          path: ['events', index, 'seq'],
        });
      }
    });
  });

/**
 * The highest sequence number up to which the control plane has stored every event (or its declared loss):
 * the device may delete all spooled events with `seq <= highestContiguousSeq`. 0 means nothing stored yet.
 */
export const eventAckMessageSchema = z.object({
  v: protocolVersionSchema,
  deviceId: deviceIdSchema,
  highestContiguousSeq: sequenceNumberSchema,
  timestamp: epochMillisSchema,
});

export type BoundingBox = z.infer<typeof boundingBoxSchema>;
export type EmotionEvent = z.infer<typeof emotionEventSchema>;
export type LostSequenceRange = z.infer<typeof lostSequenceRangeSchema>;
export type EventBatchMessage = z.infer<typeof eventBatchMessageSchema>;
export type EventAckMessage = z.infer<typeof eventAckMessageSchema>;
