import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const instantSchema = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 date-time')
  .transform((value) => new Date(value));

export const eventFilterQuerySchema = z.object({
  device: z.string().min(1).max(64).optional().describe('Only events of this device id'),
  tags: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .describe("Tag selector on the devices' current tags, e.g. `site=lab,camera!=csi`"),
  label: z.string().min(1).max(64).optional().describe('Only this expression label, e.g. `Happiness`'),
  from: instantSchema.optional().describe('Events that started at or after this ISO 8601 instant'),
  to: instantSchema.optional().describe('Events that started before this ISO 8601 instant'),
  minScore: z.coerce.number().min(0).max(1).optional().describe('Only events with score >= this'),
  model: z.string().min(1).max(128).optional().describe('Only events detected by this model id'),
});

export const eventListQuerySchema = eventFilterQuerySchema.extend({
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'must be the nextCursor of a previous page')
    .transform(Number)
    .optional()
    .describe('The `nextCursor` of the previous page'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const boxSchema = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

export const eventSchema = z.object({
  /** Global, ever-increasing id: the order of every listing and the SSE event id. */
  id: z.string(),
  deviceId: z.string(),
  seq: z.number().int(),
  label: z.string(),
  score: z.number(),
  box: boxSchema,
  startedAt: z.string().datetime(),
  durationMs: z.number().int(),
  frameIndex: z.number().int(),
  modelId: z.string(),
  trackId: z.number().int().nullable(),
  receivedAt: z.string().datetime(),
});

export const eventListSchema = z.object({
  items: z.array(eventSchema),
  /** Pass as `cursor` for the next page; null when this page is the last one for now. */
  nextCursor: z.string().nullable(),
});

const sequenceRangeSchema = z.object({ fromSeq: z.number().int(), toSeq: z.number().int() });

export const eventContinuitySchema = z.object({
  deviceId: z.string(),
  /** Every seq up to this is stored or declared lost; the value last acknowledged to the device. */
  highestContiguousSeq: z.number().int(),
  highestStoredSeq: z.number().int(),
  storedEvents: z.number().int(),
  /** Ranges the device declared lost (spool overflow). */
  lostRanges: z.array(sequenceRangeSchema),
  lostEvents: z.number().int(),
  /** Gaps above the acknowledged frontier: not (yet) received and not declared lost. At most 100. */
  missingRanges: z.array(sequenceRangeSchema),
});

export const eventExportQuerySchema = eventFilterQuerySchema.extend({
  format: z.enum(['csv', 'ndjson']).default('ndjson'),
});

const eventIdSchema = z.string().regex(/^\d{1,15}$/, 'must be an event id');

export const eventStreamQuerySchema = eventFilterQuerySchema.extend({
  lastEventId: eventIdSchema
    .optional()
    .describe('Resume after this event id (for clients that cannot send the `Last-Event-ID` header)'),
});

const dimensionSchema = z
  .string()
  .refine(
    (value) =>
      value === 'label' || value === 'device' || /^tag:[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/.test(value),
    'each dimension must be `label`, `device` or `tag:<key>`',
  );

export const eventAggregateQuerySchema = eventFilterQuerySchema.extend({
  bucket: z
    .string()
    .regex(/^[1-9]\d{0,4}[smhd]$/, 'must be a count and a unit s, m, h or d, e.g. 1m, 1h, 1d')
    .default('1h'),
  by: z
    .string()
    .default('label')
    .transform((value) => value.split(',').map((part) => part.trim()))
    .pipe(z.array(dimensionSchema).min(1).max(3))
    .describe('Comma-separated dimensions: `label`, `device`, `tag:<key>` (default `label`)'),
});

export const eventAggregatesSchema = z.object({
  bucketSeconds: z.number().int(),
  dimensions: z.array(z.string()),
  rows: z.array(
    z.object({
      bucketStart: z.string().datetime(),
      /** Dimension → value (null: the device lacks the tag). */
      keys: z.record(z.string(), z.string().nullable()),
      count: z.number().int(),
    }),
  ),
});

export const eventDeleteQuerySchema = z.object({
  device: z.string().min(1).max(64).describe('The device whose events are deleted'),
  from: instantSchema
    .optional()
    .describe('Events that started at or after this instant (default: the first)'),
  to: instantSchema.optional().describe('Events that started before this instant (default: all later ones)'),
});

export const eventDeletionSchema = z.object({ deviceId: z.string(), deleted: z.number().int() });

export class EventExportQueryDto extends createZodDto(eventExportQuerySchema) {}
export class EventStreamQueryDto extends createZodDto(eventStreamQuerySchema) {}
export class EventAggregateQueryDto extends createZodDto(eventAggregateQuerySchema) {}
export class EventAggregatesDto extends createZodDto(eventAggregatesSchema) {}
export class EventDeleteQueryDto extends createZodDto(eventDeleteQuerySchema) {}
export class EventDeletionDto extends createZodDto(eventDeletionSchema) {}
export class EventFilterQueryDto extends createZodDto(eventFilterQuerySchema) {}
export class EventListQueryDto extends createZodDto(eventListQuerySchema) {}
export class EventDto extends createZodDto(eventSchema) {}
export class EventListDto extends createZodDto(eventListSchema) {}
export class EventContinuityDto extends createZodDto(eventContinuitySchema) {}
