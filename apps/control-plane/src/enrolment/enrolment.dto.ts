import { deviceCapabilitiesSchema } from '@emofleet/protocol';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { tagsSchema } from '../devices/device-tags';

const DAY_MS = 24 * 3600 * 1000;

export const enrolmentTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** 1 for a one-time token; null for any number of uses until it expires. */
  maxUses: z.number().int().nullable(),
  uses: z.number().int(),
  tags: z.record(z.string(), z.string()),
  state: z.enum(['active', 'expired', 'revoked', 'used-up']),
  createdBy: z.string().nullable(),
  createdAt: z.string().datetime(),
  expiresAt: z.string().datetime(),
  lastUsedAt: z.string().datetime().nullable(),
  revokedAt: z.string().datetime().nullable(),
});

export const createdEnrolmentTokenSchema = enrolmentTokenSchema.extend({
  /** The secret a device presents to `POST /enrol`. Shown only in this response. */
  token: z.string(),
});

export const createEnrolmentTokenSchema = z.object({
  name: z.string().trim().min(1).max(100),
  /** 1 (the default) makes a one-time token; null allows any number of enrolments until `expiresAt`. */
  maxUses: z.number().int().min(1).max(1_000_000).nullable().default(1),
  /** Default: 24 hours from now. At most a year ahead. */
  expiresAt: z
    .string()
    .datetime({ offset: true })
    .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
    .refine((value) => Date.parse(value) <= Date.now() + 366 * DAY_MS, 'must be at most a year ahead')
    .optional(),
  /** Tags every device enrolled with this token starts with. */
  tags: tagsSchema.default({}),
});

export const enrolmentTokenListSchema = z.object({
  items: z.array(enrolmentTokenSchema),
  nextCursor: z.string().nullable(),
});

export const enrolmentTokenListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(200).optional(),
});

export const enrolRequestSchema = z.object({
  /** The enrolment token (`emfe_...`). */
  token: z.string().min(1).max(200),
  /** A human name for the device, e.g. its hostname. */
  name: z.string().trim().min(1).max(100),
  /** What the device can do, as far as it knows before its first birth message (which replaces it). */
  capabilities: deviceCapabilitiesSchema.partial().optional(),
});

export const enrolResponseSchema = z.object({
  deviceId: z.string(),
  name: z.string(),
  tags: z.record(z.string(), z.string()),
  /** The device's MQTT password. Shown only in this response: store it (mode 0600). */
  secret: z.string(),
  /** The broker to connect to, with username = client id = `deviceId`, password = `secret`. */
  mqttUrl: z.string(),
  topicPrefix: z.string(),
  /** PEM (SPKI) ed25519 key that signs model manifests; pin it. */
  signingPublicKey: z.string(),
  /** PEM CA certificate of the broker and API when TLS is configured; pin it. Null on plain TCP. */
  caCertificate: z.string().nullable(),
});

export class EnrolmentTokenDto extends createZodDto(enrolmentTokenSchema) {}
export class CreatedEnrolmentTokenDto extends createZodDto(createdEnrolmentTokenSchema) {}
export class CreateEnrolmentTokenDto extends createZodDto(createEnrolmentTokenSchema) {}
export class EnrolmentTokenListDto extends createZodDto(enrolmentTokenListSchema) {}
export class EnrolmentTokenListQueryDto extends createZodDto(enrolmentTokenListQuerySchema) {}
export class EnrolRequestDto extends createZodDto(enrolRequestSchema) {}
export class EnrolResponseDto extends createZodDto(enrolResponseSchema) {}

export const ENROLMENT_TOKEN_DEFAULT_LIFETIME_MS = DAY_MS;
