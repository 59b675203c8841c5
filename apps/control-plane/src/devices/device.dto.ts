import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { tagKeySchema, tagValueSchema } from './device-tags';

const modelRefSchema = z.object({ modelId: z.string(), version: z.string() });

export const deviceSchema = z.object({
  id: z.string(),
  name: z.string(),
  tags: z.record(z.string(), z.string()),
  capabilities: z.record(z.string(), z.unknown()).nullable(),
  online: z.boolean(),
  simulated: z.boolean(),
  sessionSeq: z.number().int().nullable(),
  lastSeenAt: z.string().datetime().nullable(),
  /** The model the device reported running in its newest birth message. */
  currentModel: modelRefSchema.nullable(),
  /** The model the device should run. */
  desiredModel: modelRefSchema.nullable(),
  lastTelemetry: z.record(z.string(), z.unknown()).nullable(),
  lastTelemetryAt: z.string().datetime().nullable(),
  createdAt: z.string().datetime(),
  /** Set once the device is decommissioned (its credentials are revoked). */
  decommissionedAt: z.string().datetime().nullable(),
});

export const deviceListSchema = z.object({
  items: z.array(deviceSchema),
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});

export const deviceListQuerySchema = z.object({
  online: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  tags: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .describe(
      'Tag selector: comma-separated `k=v`, `k!=v`, `k`, `!k`, all must hold (e.g. `site=lab,camera!=csi`)',
    ),
  model: z
    .string()
    .regex(/^[^@\s]+(@[^@\s]+)?$/, 'must be <modelId> or <modelId>@<version>')
    .max(200)
    .optional()
    .describe('Devices currently running this model: `<modelId>` or `<modelId>@<version>`'),
  capability: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe(
      'Comma-separated `key=value` capability requirements, e.g. `backend=tensorrt,arch=arm64`; `backend` means ' +
        '`detectorBackends` (list capabilities match when they contain the value); nested keys use dots (`os.platform`)',
    ),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(200).optional(),
});

export const updateDeviceSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    /** Merge patch of the tags: a value sets the tag, null removes it; tags not named stay as they are. */
    tags: z.record(tagKeySchema, tagValueSchema.nullable()).optional(),
  })
  .refine((update) => update.name !== undefined || update.tags !== undefined, 'give name and/or tags');

export class DeviceDto extends createZodDto(deviceSchema) {}
export class DeviceListDto extends createZodDto(deviceListSchema) {}
export class DeviceListQueryDto extends createZodDto(deviceListQuerySchema) {}
export class UpdateDeviceDto extends createZodDto(updateDeviceSchema) {}
