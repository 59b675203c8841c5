import { healthCheckSpecSchema, jobExecutionStatusSchema, jobStatusDetailsSchema } from '@emofleet/protocol';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { type DeviceJob, type DeviceJobUpdate } from './device-job';
import { type DeviceJobWithHistory, MAX_JOB_TIMEOUT_MS } from './device-jobs.service';

const timeoutSecondsSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_JOB_TIMEOUT_MS / 1000)
  .optional()
  .describe('The job becomes TIMED_OUT when it is not finished this many seconds after it was queued');

export const desiredModelRequestSchema = z
  .object({
    modelVersionId: z
      .string()
      .min(1)
      .max(64)
      .nullable()
      .describe('The model version the device should run (it must be ready), or null: run no model'),
    healthCheck: healthCheckSpecSchema
      .nullable()
      .optional()
      .describe('The gate the device must pass before it switches (default: none)'),
    timeoutSeconds: timeoutSecondsSchema,
  })
  .strict();

export const enqueueJobRequestSchema = z
  .object({
    operation: z.enum(['rollback', 'evaluate']),
    parameters: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('rollback: `{ reason? }`; evaluate: `{ modelId? }` (the running model when absent)'),
    timeoutSeconds: timeoutSecondsSchema,
  })
  .strict();

const DEFAULT_CANCEL_REASON = 'canceled by an operator';

/** The body is optional: no body cancels with the default reason. */
export const cancelJobRequestSchema = z
  .object({ reason: z.string().trim().min(1).max(500).default(DEFAULT_CANCEL_REASON) })
  .strict()
  .default({ reason: DEFAULT_CANCEL_REASON });

export const deviceJobListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'must be the nextCursor of a previous page')
    .optional(),
});

const date = z.string().datetime();

export const deviceJobSchema = z.object({
  jobId: z.string(),
  deviceId: z.string(),
  operation: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  status: jobExecutionStatusSchema,
  /** Grows by one with every accepted change (optimistic concurrency of device updates). */
  versionNumber: z.number().int(),
  statusDetails: jobStatusDetailsSchema,
  rolloutId: z.string().nullable(),
  modelVersionId: z.string().nullable(),
  desiredVersion: z.number().int().nullable(),
  queuedAt: date,
  startedAt: date.nullable(),
  finishedAt: date.nullable(),
  timeoutAt: date.nullable(),
});

export const deviceJobUpdateSchema = z.object({
  status: jobExecutionStatusSchema,
  step: z.string().nullable(),
  details: jobStatusDetailsSchema,
  versionNumber: z.number().int(),
  /** `device`, or who changed it on the control plane (`token:<name>`, `rollout:<id>`, `timeout`). */
  source: z.string(),
  at: date,
});

export const deviceJobDetailSchema = deviceJobSchema.extend({
  /** Every change of the job, oldest first. */
  updates: z.array(deviceJobUpdateSchema),
});

export const deviceJobListSchema = z.object({
  items: z.array(deviceJobSchema),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: z.string().nullable(),
});

export class DesiredModelRequestDto extends createZodDto(desiredModelRequestSchema) {}
export class EnqueueJobRequestDto extends createZodDto(enqueueJobRequestSchema) {}
export class CancelJobRequestDto extends createZodDto(cancelJobRequestSchema) {}
export class DeviceJobListQueryDto extends createZodDto(deviceJobListQuerySchema) {}
export class DeviceJobDto extends createZodDto(deviceJobSchema) {}
export class DeviceJobDetailDto extends createZodDto(deviceJobDetailSchema) {}
export class DeviceJobListDto extends createZodDto(deviceJobListSchema) {}

export function toDeviceJobDto(job: DeviceJob): DeviceJobDto {
  return {
    ...job,
    queuedAt: job.queuedAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    timeoutAt: job.timeoutAt?.toISOString() ?? null,
  };
}

function toDeviceJobUpdateDto(update: DeviceJobUpdate): z.infer<typeof deviceJobUpdateSchema> {
  return { ...update, at: update.at.toISOString() };
}

export function toDeviceJobDetailDto(job: DeviceJobWithHistory): DeviceJobDetailDto {
  return { ...toDeviceJobDto(job), updates: job.updates.map(toDeviceJobUpdateDto) };
}
