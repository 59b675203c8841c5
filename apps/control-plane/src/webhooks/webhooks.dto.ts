import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../database/schema';

export const webhookFilterSchema = z
  .object({
    types: z
      .array(z.enum(WEBHOOK_EVENT_TYPES))
      .min(1)
      .optional()
      .describe(
        'What to receive: `emotion-event` (the default), `rollout` (rollout, phase and device transitions); ' +
          'the other fields filter emotion events',
      ),
    device: z.string().min(1).max(64).optional(),
    tags: z.string().min(1).max(1000).optional().describe('Tag selector, e.g. `site=lab,camera!=csi`'),
    label: z.string().min(1).max(64).optional(),
    minScore: z.number().min(0).max(1).optional(),
    model: z.string().min(1).max(128).optional(),
  })
  .strict();

export const createWebhookSchema = z.object({
  url: z
    .string()
    .url()
    .max(2000)
    // zod runs refinements after a failed .url() check too: a URL that does not parse must stay a validation issue.
    .refine(
      (value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol),
      'must be an http(s) URL',
    ),
  secret: z.string().min(16, 'must be at least 16 characters').max(256),
  filter: webhookFilterSchema.default({}),
});

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  filter: webhookFilterSchema,
  enabled: z.boolean(),
  /** Why the webhook was disabled automatically; null while enabled. */
  disabledReason: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  createdBy: z.string().nullable(),
  createdAt: z.string().datetime(),
});

export const webhookListSchema = z.object({ items: z.array(webhookSchema) });

export const deliveryListQuerySchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'must be the nextCursor of a previous page')
    .transform(Number)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const deliverySchema = z.object({
  id: z.string(),
  kind: z.enum(WEBHOOK_EVENT_TYPES),
  eventId: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string().datetime(),
  lastAttemptAt: z.string().datetime().nullable(),
  deliveredAt: z.string().datetime().nullable(),
});

export const deliveryListSchema = z.object({
  items: z.array(deliverySchema),
  /** Older deliveries: pass as `cursor`; null on the last page. */
  nextCursor: z.string().nullable(),
});

export class CreateWebhookDto extends createZodDto(createWebhookSchema) {}
export class WebhookDto extends createZodDto(webhookSchema) {}
export class WebhookListDto extends createZodDto(webhookListSchema) {}
export class DeliveryListQueryDto extends createZodDto(deliveryListQuerySchema) {}
export class DeliveryListDto extends createZodDto(deliveryListSchema) {}
