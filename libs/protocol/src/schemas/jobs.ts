import { z } from 'zod';
import { deviceIdSchema, jobIdSchema } from '../identifiers';
import {
  byteCountSchema,
  epochMillisSchema,
  fractionSchema,
  humanTextSchema,
  modelIdSchema,
  nonNegativeIntegerSchema,
  protocolVersionSchema,
} from './common';
import { builtEngineSchema, MAX_LOG_TAIL_LENGTH } from './engine-build';

/**
 * Status of one job execution on one device, as in AWS IoT Jobs. QUEUED, TIMED_OUT and CANCELED are set by the
 * control plane only; a device reports IN_PROGRESS, then one of SUCCEEDED, FAILED or REJECTED.
 */
export const jobExecutionStatusSchema = z.enum([
  'QUEUED',
  'IN_PROGRESS',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'REJECTED',
  'CANCELED',
]);

export const deviceReportableJobStatusSchema = z.enum(['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED']);

/** Where a model installation is; reported in `statusDetails.step`. */
export const jobStepSchema = z.enum([
  'DOWNLOADING',
  'VERIFYING',
  'INSTALLING',
  'HEALTH_CHECK',
  'RUNNING',
  'ROLLED_BACK',
]);

/** Lower-case operation name, e.g. `apply-desired-state`. */
export const jobOperationNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,63}$/, 'operation must be lower-case letters, digits and "-" (at most 64)');

/**
 * What a job asks the device to do. The envelope is open (any operation name, any parameters) so that an agent
 * that does not know an operation can still read the job and answer REJECTED with a reason; `parseJobDocument`
 * validates the parameters of the operations this protocol version defines.
 */
export const jobDocumentSchema = z.object({
  operation: jobOperationNameSchema,
  parameters: z.record(z.string(), z.unknown()),
});

export const jobExecutionSchema = z.object({
  jobId: jobIdSchema,
  status: z.enum(['QUEUED', 'IN_PROGRESS']),
  /** Incremented by the control plane on every accepted update; the device echoes it as `expectedVersion`. */
  versionNumber: nonNegativeIntegerSchema,
  queuedAt: epochMillisSchema,
  document: jobDocumentSchema,
});

/** The next pending execution for the device (retained), or `execution: null` when none is pending. */
export const jobNotifyNextMessageSchema = z.object({
  v: protocolVersionSchema,
  deviceId: deviceIdSchema,
  timestamp: epochMillisSchema,
  execution: jobExecutionSchema.nullable(),
});

export const jobStatusDetailsSchema = z.object({
  step: jobStepSchema.optional(),
  /** Why the execution failed, was rejected or rolled back. */
  reason: humanTextSchema.optional(),
  progress: z.object({ bytesDone: byteCountSchema, bytesTotal: byteCountSchema }).optional(),
  /** The model the step concerns. */
  modelId: modelIdSchema.optional(),
  /** FPS measured by the health check. */
  measuredFps: z.number().min(0).max(10_000).optional(),
  /** Accuracy on the model's eval set measured by the health check. */
  measuredAccuracy: fractionSchema.optional(),
  /** mAP@0.5 on the model's eval set (VOC all-point AP per class at IoU 0.5, mean over ground-truth classes). */
  measuredMap50: fractionSchema.optional(),
  /**
   * Where a job whose progress does not fit `step` is (`build-engine`: `BUILDING`, `UPLOADING`). An open field:
   * receivers accept values they do not know, so new stages need no new protocol version.
   */
  buildStage: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,31}$/, 'build stage must be upper-case letters, digits and "_" (at most 32)')
    .optional(),
  /** `build-engine` SUCCEEDED: the uploaded engine and trtexec's timing. */
  engine: builtEngineSchema.optional(),
  /** The last lines of a builder's output (trtexec's log), with SUCCEEDED and FAILED. */
  logTail: z.string().min(1).max(MAX_LOG_TAIL_LENGTH).optional(),
});

/**
 * A device's status report for one execution. The control plane accepts it only when `expectedVersion` equals
 * the execution's current `versionNumber` (optimistic concurrency) and answers on the response topic.
 */
export const jobUpdateMessageSchema = z.object({
  v: protocolVersionSchema,
  deviceId: deviceIdSchema,
  jobId: jobIdSchema,
  status: deviceReportableJobStatusSchema,
  expectedVersion: nonNegativeIntegerSchema,
  statusDetails: jobStatusDetailsSchema,
  timestamp: epochMillisSchema,
});

export const jobUpdateRejectionSchema = z.enum([
  'version-conflict',
  'terminal-state',
  'unknown-job',
  'invalid',
]);

/** The control plane's answer to one job update. */
export const jobUpdateResponseMessageSchema = z
  .object({
    v: protocolVersionSchema,
    deviceId: deviceIdSchema,
    jobId: jobIdSchema,
    accepted: z.boolean(),
    /** The execution's status and version after this update (unchanged when rejected). */
    status: jobExecutionStatusSchema,
    versionNumber: nonNegativeIntegerSchema,
    rejection: jobUpdateRejectionSchema.optional(),
    timestamp: epochMillisSchema,
  })
  .refine((message) => message.accepted === (message.rejection === undefined), {
    message: 'rejection must be present exactly when accepted is false',
    path: ['rejection'],
  });

export type JobExecutionStatus = z.infer<typeof jobExecutionStatusSchema>;
export type DeviceReportableJobStatus = z.infer<typeof deviceReportableJobStatusSchema>;
export type JobStep = z.infer<typeof jobStepSchema>;
export type JobDocument = z.infer<typeof jobDocumentSchema>;
export type JobExecution = z.infer<typeof jobExecutionSchema>;
export type JobNotifyNextMessage = z.infer<typeof jobNotifyNextMessageSchema>;
export type JobStatusDetails = z.infer<typeof jobStatusDetailsSchema>;
export type JobUpdateMessage = z.infer<typeof jobUpdateMessageSchema>;
export type JobUpdateRejection = z.infer<typeof jobUpdateRejectionSchema>;
export type JobUpdateResponseMessage = z.infer<typeof jobUpdateResponseMessageSchema>;
