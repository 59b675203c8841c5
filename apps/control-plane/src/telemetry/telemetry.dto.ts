import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { TAG_KEY_PATTERN } from '../devices/device-tags';
import { rolloutFleetStatusSchema } from '../rollouts/rollout-status.repository';

const instantSchema = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 date-time')
  .transform((value) => new Date(value));

export const seriesQuerySchema = z.object({
  from: instantSchema.optional().describe('Start (inclusive), ISO 8601; default: one hour before `to`'),
  to: instantSchema.optional().describe('End (exclusive), ISO 8601; default: now'),
  bucket: z
    .string()
    .regex(/^[1-9]\d{0,4}[smhd]$/, 'must be a count and a unit s, m, h or d, e.g. 10s, 1m, 1h')
    .default('1m')
    .describe(
      'Bucket width: below a minute (or not whole minutes) from the raw samples, whole minutes from the ' +
        '1-minute roll-ups, whole hours from the 1-hour roll-ups',
    ),
});

export const fleetSeriesQuerySchema = seriesQuerySchema.extend({
  groupBy: z
    .string()
    .refine(
      (value) => value === 'model' || (value.startsWith('tag:') && TAG_KEY_PATTERN.test(value.slice(4))),
      'must be `model` or `tag:<key>`',
    )
    .optional()
    .describe("`tag:<key>` (the devices' current tag value) or `model` (the model the samples ran)"),
});

export const fleetPointSchema = z.object({
  bucketStart: z.string().datetime(),
  /** The group's tag value or model id; null for the whole fleet or devices without the tag/model. */
  group: z.string().nullable(),
  devices: z.number().int(),
  fpsMean: z.number(),
  fpsP50: z.number(),
  fpsP10: z.number(),
});

export const fleetSeriesSchema = z.object({
  bucketSeconds: z.number().int(),
  source: z.enum(['raw', '1m', '1h']),
  points: z.array(fleetPointSchema),
});

export const devicePointSchema = z.object({
  bucketStart: z.string().datetime(),
  samples: z.number().int(),
  fpsMean: z.number(),
  fpsMin: z.number(),
  latencyP50Ms: z.number().nullable(),
  latencyP95Ms: z.number().nullable(),
  latencyP99Ms: z.number().nullable(),
  accuracy: z.number().nullable(),
  cpuPercent: z.number(),
  maxTemperatureC: z.number().nullable(),
});

export const deviceSeriesSchema = z.object({
  deviceId: z.string(),
  bucketSeconds: z.number().int(),
  source: z.enum(['raw', '1m', '1h']),
  points: z.array(devicePointSchema),
});

export const fleetSummarySchema = z.object({
  devices: z.number().int(),
  online: z.number().int(),
  byModel: z.array(
    z.object({
      /** null: devices running no model. */
      modelId: z.string().nullable(),
      version: z.string().nullable(),
      devices: z.number().int(),
      online: z.number().int(),
    }),
  ),
  /** Rollouts by state, the ones in progress, and their devices by state. */
  rollouts: rolloutFleetStatusSchema,
});

export class SeriesQueryDto extends createZodDto(seriesQuerySchema) {}
export class FleetSeriesQueryDto extends createZodDto(fleetSeriesQuerySchema) {}
export class FleetSeriesDto extends createZodDto(fleetSeriesSchema) {}
export class DeviceSeriesDto extends createZodDto(deviceSeriesSchema) {}
export class FleetSummaryDto extends createZodDto(fleetSummarySchema) {}
