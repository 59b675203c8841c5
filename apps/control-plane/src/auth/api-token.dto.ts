import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { ROLES } from './roles';

export const apiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  /** `active`, or why the token no longer works. */
  state: z.enum(['active', 'expired', 'revoked']),
  createdBy: z.string().nullable(),
  createdAt: z.string().datetime(),
  lastUsedAt: z.string().datetime().nullable(),
  expiresAt: z.string().datetime().nullable(),
  revokedAt: z.string().datetime().nullable(),
});

export const createdApiTokenSchema = apiTokenSchema.extend({
  /** The secret. Shown only in this response: only its hash is stored. */
  token: z.string(),
});

export const createApiTokenSchema = z.object({
  name: z.string().trim().min(1).max(100),
  role: z.enum(ROLES),
  /** When the token stops working; omit for a token that never expires. Must be in the future. */
  expiresAt: z
    .string()
    .datetime({ offset: true })
    .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
    .optional(),
});

/** Who the calling token is: what a client (the dashboard) needs to know which actions its role allows. */
export const currentTokenSchema = z.object({
  tokenId: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
});

export const apiTokenListSchema = z.object({
  items: z.array(apiTokenSchema),
  nextCursor: z.string().nullable(),
});

export const apiTokenListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(200).optional(),
});

export class ApiTokenDto extends createZodDto(apiTokenSchema) {}
export class CreatedApiTokenDto extends createZodDto(createdApiTokenSchema) {}
export class CreateApiTokenDto extends createZodDto(createApiTokenSchema) {}
export class CurrentTokenDto extends createZodDto(currentTokenSchema) {}
export class ApiTokenListDto extends createZodDto(apiTokenListSchema) {}
export class ApiTokenListQueryDto extends createZodDto(apiTokenListQuerySchema) {}
