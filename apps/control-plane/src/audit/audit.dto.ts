import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const auditEntrySchema = z.object({
  id: z.string(),
  occurredAt: z.string().datetime(),
  actor: z
    .object({ tokenId: z.string(), name: z.string().nullable(), role: z.string().nullable() })
    .nullable()
    .describe('The API token that made the call; null for public routes and anonymous refused calls'),
  method: z.string(),
  route: z.string(),
  path: z.string(),
  targetId: z.string().nullable(),
  status: z.number().int(),
  sourceIp: z.string().nullable(),
});

export const auditListSchema = z.object({
  items: z.array(auditEntrySchema),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: z.string().nullable(),
});

export const auditListQuerySchema = z.object({
  actorTokenId: z.string().min(1).max(100).optional(),
  method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  route: z.string().min(1).max(300).optional().describe('Route template, e.g. /devices/:id'),
  targetId: z.string().min(1).max(200).optional(),
  status: z.coerce.number().int().min(100).max(599).optional(),
  since: z.string().datetime({ offset: true }).optional(),
  until: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'must be a cursor returned by GET /audit')
    .optional(),
});

export class AuditEntryDto extends createZodDto(auditEntrySchema) {}
export class AuditListDto extends createZodDto(auditListSchema) {}
export class AuditListQueryDto extends createZodDto(auditListQuerySchema) {}
