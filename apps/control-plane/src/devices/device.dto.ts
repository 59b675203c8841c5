import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const deviceSchema = z.object({
  id: z.string(),
  name: z.string(),
  tags: z.record(z.string(), z.string()),
  capabilities: z.record(z.string(), z.unknown()).nullable(),
  online: z.boolean(),
  simulated: z.boolean(),
  sessionSeq: z.number().int().nullable(),
  lastSeenAt: z.string().datetime().nullable(),
  createdAt: z.string().datetime(),
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
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(200).optional(),
});

export class DeviceDto extends createZodDto(deviceSchema) {}
export class DeviceListDto extends createZodDto(deviceListSchema) {}
export class DeviceListQueryDto extends createZodDto(deviceListQuerySchema) {}
