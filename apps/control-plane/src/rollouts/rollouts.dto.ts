import { deviceIdSchema, modelIdSchema } from '@emofleet/protocol';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import {
  FAILURE_TYPES,
  PHASE_STATES,
  ROLLOUT_EVENT_SCOPES,
  ROLLOUT_STATES,
  TARGET_STATES,
} from '../database/schema';

const modelInputSchema = z
  .object({ name: modelIdSchema, version: z.number().int().min(1) })
  .strict()
  .describe('A model version by model name and version number; it must be ready');

const phaseInputSchema = z
  .object({
    name: z.string().trim().min(1).max(64).optional(),
    count: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('Devices started once the phase is done'),
    percent: z
      .number()
      .gt(0)
      .max(100)
      .optional()
      .describe('Share of the targets started once the phase is done (rounded up)'),
    successThresholdPercent: z
      .number()
      .min(0)
      .max(100)
      .default(100)
      .describe("Share of the phase's devices that must end healthy before the next phase"),
    soakSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(0)
      .describe('How long each device runs the new model under watch before it counts as healthy'),
    approval: z
      .enum(['automatic', 'manual'])
      .default('automatic')
      .describe('manual: the phase starts only after POST /rollouts/:id/approve'),
  })
  .strict()
  .superRefine((phase, ctx) => {
    if ((phase.count === undefined) === (phase.percent === undefined))
      ctx.addIssue({ code: 'custom', message: 'give either count or percent' });
  });

const gatesInputSchema = z
  .object({
    fps: z
      .object({
        min: z.number().min(0).max(10_000).optional().describe('Absolute FPS floor'),
        minPercentOfPrevious: z
          .number()
          .gt(0)
          .max(1000)
          .optional()
          .describe("FPS floor as a percentage of the device's FPS on the model it runs now"),
      })
      .strict()
      .refine((fps) => fps.min !== undefined || fps.minPercentOfPrevious !== undefined, {
        message: 'give min and/or minPercentOfPrevious',
      })
      .optional(),
    accuracy: z
      .object({
        baseline: z
          .union([z.number().min(0).max(1), z.literal('previous-model')])
          .describe("Accuracy to keep: a number, or the accuracy of the device's current model"),
        tolerance: z.number().min(0).max(1).default(0.01).describe('Allowed drop (the paper: one point)'),
      })
      .strict()
      .optional(),
    warmupFrames: z.number().int().min(0).max(100_000).default(5),
    measureFrames: z.number().int().min(1).max(100_000).default(30),
    crashLoopRestarts: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe('New sessions of a device during its soak that count as a crash loop'),
  })
  .strict();

const abortCriterionSchema = z
  .object({
    failureType: z.enum([...FAILURE_TYPES, 'any']),
    thresholdPercent: z.number().gt(0).max(100),
    minExecuted: z.number().int().min(1).max(1_000_000).default(1),
  })
  .strict();

export const createRolloutSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    model: modelInputSchema,
    variants: z
      .array(
        z
          .object({
            capability: z
              .string()
              .min(1)
              .max(500)
              .describe('Capability requirements, e.g. `backend=tensorrt,jetsonModel=NVIDIA Jetson Nano`'),
            model: modelInputSchema,
          })
          .strict(),
      )
      .max(32)
      .default([])
      .describe('Devices matching a variant (first match) get its model instead, e.g. an engine per GPU'),
    selector: z
      .string()
      .max(1000)
      .default('')
      .describe(
        'Tag selector of the target devices (`site=lab,camera!=csi`); empty: every device in service',
      ),
    phases: z
      .array(phaseInputSchema)
      .min(1)
      .max(20)
      .superRefine((phases, ctx) => {
        const last = phases[phases.length - 1];
        if (last !== undefined && last.percent !== 100)
          ctx.addIssue({
            code: 'custom',
            path: [phases.length - 1],
            message: 'the last phase must be percent: 100 (every target)',
          });
      }),
    gates: gatesInputSchema.default({
      warmupFrames: 5,
      measureFrames: 30,
      crashLoopRestarts: 3,
    }),
    abortCriteria: z.array(abortCriterionSchema).max(10).default([]),
    maxConcurrentInstalls: z.number().int().min(1).max(100_000).default(10),
    installTimeoutSeconds: z
      .number()
      .int()
      .min(10)
      .max(7 * 86_400)
      .default(1800)
      .describe('A device that reports no result within this time fails its install (timed-out)'),
    installRetries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe(
        'Installs issued again after an install failure or time-out (never after a failed health gate)',
      ),
    includeNewDevices: z
      .boolean()
      .default(false)
      .describe('Devices that come to match the selector later get the rollout too'),
    canaryDevices: z
      .array(deviceIdSchema)
      .max(100)
      .default([])
      .describe('Devices placed first in the order (they must be targets)'),
    orderSeed: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe(
        'Seed of the device order (default: the model version id); the same seed gives the same plan',
      ),
  })
  .strict();

export type CreateRolloutInput = z.infer<typeof createRolloutSchema>;

const modelRefSchema = z.object({ modelId: z.string(), version: z.string(), modelVersionId: z.string() });

export const rolloutPreviewSchema = z.object({
  targets: z.number().int(),
  online: z.number().int(),
  phases: z.array(
    z.object({
      index: z.number().int(),
      name: z.string(),
      /** Devices started once this phase is done (cumulative), for the targets as they are now. */
      cumulative: z.number().int(),
      /** The online devices this phase would start now, in order. */
      deviceIds: z.array(z.string()),
    }),
  ),
  /** Offline devices: started when they come back, in whatever phase the rollout is in then. */
  deferred: z.array(z.string()),
  devices: z.array(
    z.object({
      deviceId: z.string(),
      position: z.number().int(),
      online: z.boolean(),
      currentModel: z.object({ modelId: z.string(), version: z.string() }).nullable(),
      model: modelRefSchema,
    }),
  ),
});

const gateSchema = z.object({
  minFps: z.number(),
  minAccuracy: z.number().nullable(),
  fpsBasis: z.string(),
  accuracyBasis: z.string().nullable(),
});

const rolloutDeviceSchema = z.object({
  deviceId: z.string(),
  position: z.number().int(),
  state: z.enum(TARGET_STATES),
  /** The phase (from 1) in which the device was started. */
  phase: z.number().int().nullable(),
  /** Installs issued (1 + retries). */
  attempts: z.number().int(),
  model: modelRefSchema,
  previousModel: z.object({ modelId: z.string(), version: z.string() }).nullable(),
  gate: gateSchema.nullable(),
  jobId: z.string().nullable(),
  jobStatus: z.string().nullable(),
  step: z.string().nullable(),
  measuredFps: z.number().nullable(),
  measuredAccuracy: z.number().nullable(),
  failure: z.object({ type: z.enum(FAILURE_TYPES), reason: z.string() }).nullable(),
  rollbackJobId: z.string().nullable(),
  startedAt: z.string().datetime().nullable(),
  soakUntil: z.string().datetime().nullable(),
  finishedAt: z.string().datetime().nullable(),
});

const rolloutPhaseSchema = z.object({
  /** From 1. */
  phase: z.number().int(),
  name: z.string(),
  count: z.number().int().nullable(),
  percent: z.number().nullable(),
  successThresholdPercent: z.number(),
  soakSeconds: z.number().int(),
  approval: z.enum(['automatic', 'manual']),
  state: z.enum(PHASE_STATES),
  startedAt: z.string().datetime().nullable(),
  completedAt: z.string().datetime().nullable(),
  approvedBy: z.string().nullable(),
});

export const rolloutSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(ROLLOUT_STATES),
  stateReason: z.string().nullable(),
  model: modelRefSchema,
  selector: z.string(),
  /** The current phase, from 1. */
  currentPhase: z.number().int(),
  phases: z.number().int(),
  acceptsNewDevices: z.boolean(),
  /** Devices by state. */
  devices: z.record(z.string(), z.number().int()),
  createdBy: z.string(),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
  finishedAt: z.string().datetime().nullable(),
});

export const rolloutDetailSchema = rolloutSummarySchema.extend({
  variants: z.array(z.object({ capability: z.string(), model: modelRefSchema })),
  gates: z.object({
    fps: z.object({ min: z.number().nullable(), minPercentOfPrevious: z.number().nullable() }).nullable(),
    accuracy: z
      .object({ baseline: z.union([z.number(), z.literal('previous-model')]), tolerance: z.number() })
      .nullable(),
    warmupFrames: z.number().int(),
    measureFrames: z.number().int(),
    crashLoopRestarts: z.number().int(),
  }),
  abortCriteria: z.array(
    z.object({
      failureType: z.enum([...FAILURE_TYPES, 'any']),
      thresholdPercent: z.number(),
      minExecuted: z.number().int(),
    }),
  ),
  maxConcurrentInstalls: z.number().int(),
  installTimeoutSeconds: z.number().int(),
  installRetries: z.number().int(),
  canaryDevices: z.array(z.string()),
  orderSeed: z.string(),
  phaseDetails: z.array(rolloutPhaseSchema),
  targets: z.array(rolloutDeviceSchema),
});

export const rolloutListSchema = z.object({
  items: z.array(rolloutSummarySchema),
  /** Older rollouts: pass as `cursor`; null on the last page. */
  nextCursor: z.string().nullable(),
});

export const rolloutListQuerySchema = z.object({
  state: z.enum(ROLLOUT_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'must be the nextCursor of a previous page')
    .optional(),
});

export const rolloutActionSchema = z
  .object({ reason: z.string().trim().min(1).max(500).optional() })
  .strict()
  .default({});

export const rolloutEventSchema = z.object({
  /** Global, increasing: the SSE id and the cursor. */
  id: z.string(),
  rolloutId: z.string(),
  /** rollout: the rollout's state; phase: a phase's state; device: a device's state in the rollout. */
  type: z.enum(ROLLOUT_EVENT_SCOPES),
  /** The phase (from 1) of a phase event, or of the device's phase. */
  phase: z.number().int().nullable(),
  deviceId: z.string().nullable(),
  from: z.string().nullable(),
  to: z.string(),
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  actor: z.string(),
  at: z.string().datetime(),
});

export const rolloutEventListSchema = z.object({
  items: z.array(rolloutEventSchema),
  /** Pass as `after` for the next page; null at the end. */
  nextCursor: z.string().nullable(),
});

export const rolloutEventQuerySchema = z.object({
  rollout: z.string().min(1).max(64).optional().describe('Only the events of this rollout'),
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'must be an event id')
    .optional()
    .describe('Events after this id'),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const rolloutStreamQuerySchema = rolloutEventQuerySchema.omit({ limit: true, after: true }).extend({
  lastEventId: z
    .string()
    .regex(/^\d{1,15}$/, 'must be an event id')
    .optional()
    .describe('Resume after this event id (the Last-Event-ID header wins)'),
});

export class CreateRolloutDto extends createZodDto(createRolloutSchema) {}
export class RolloutPreviewDto extends createZodDto(rolloutPreviewSchema) {}
export class RolloutDetailDto extends createZodDto(rolloutDetailSchema) {}
export class RolloutListDto extends createZodDto(rolloutListSchema) {}
export class RolloutListQueryDto extends createZodDto(rolloutListQuerySchema) {}
export class RolloutActionDto extends createZodDto(rolloutActionSchema) {}
export class RolloutEventListDto extends createZodDto(rolloutEventListSchema) {}
export class RolloutEventQueryDto extends createZodDto(rolloutEventQuerySchema) {}
export class RolloutStreamQueryDto extends createZodDto(rolloutStreamQuerySchema) {}
export type RolloutEventDto = z.infer<typeof rolloutEventSchema>;
