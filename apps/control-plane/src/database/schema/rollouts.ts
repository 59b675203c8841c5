import type { AutomaticRollback, JobExecutionStatus, JobStatusDetails } from '@emofleet/protocol';
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { type DeviceModelRef } from './devices';
import { modelVersions } from './models';

export const ROLLOUT_STATES = [
  'running',
  'awaiting-approval',
  'paused',
  'completed',
  'aborted',
  'canceled',
] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export const PHASE_STATES = [
  'pending',
  'awaiting-approval',
  'running',
  'succeeded',
  'failed',
  'skipped',
] as const;
export type PhaseState = (typeof PHASE_STATES)[number];

export const TARGET_STATES = [
  'pending',
  'installing',
  'soaking',
  'healthy',
  'failed',
  'rolling-back',
  'rolled-back',
  'rollback-failed',
  'skipped',
] as const;
export type TargetState = (typeof TARGET_STATES)[number];

/** Why a device failed its part of a rollout (abort criteria count by these). */
export const FAILURE_TYPES = ['health-gate', 'install', 'timed-out', 'crash-loop'] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

/** A model version as a rollout names it: the version id and what devices report (`modelId`, `version`). */
export interface RolloutModelRef extends DeviceModelRef {
  modelVersionId: string;
}

/** Devices whose capabilities match `capability` get `model` instead of the rollout's model. */
export interface RolloutVariant {
  capability: string;
  model: RolloutModelRef;
}

/** The health gates of a rollout (docs/rollouts.md "Health gates"). */
export interface RolloutGates {
  fps: { min: number | null; minPercentOfPrevious: number | null } | null;
  accuracy: { baseline: number | 'previous-model'; tolerance: number } | null;
  warmupFrames: number;
  measureFrames: number;
  /** New MQTT sessions during a device's soak that count as a crash loop. */
  crashLoopRestarts: number;
}

/** Like AWS IoT's abortConfig: abort when `failureType` reaches `thresholdPercent` of at least `minExecuted`. */
export interface AbortCriterion {
  failureType: FailureType | 'any';
  thresholdPercent: number;
  minExecuted: number;
}

/** A staged, health-gated model rollout to the devices a tag selector matches. */
export const rollouts = pgTable(
  'rollouts',
  {
    id: text('id').primaryKey(),
    /** Creation order: the list order and its cursor. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    name: text('name').notNull(),
    state: text('state').$type<RolloutState>().notNull(),
    /** Why the rollout is in its state (abort reason, who paused it ...). */
    stateReason: text('state_reason'),
    /** The state `resume` returns to (set while paused). */
    resumeState: text('resume_state').$type<RolloutState>(),
    model: jsonb('model').$type<RolloutModelRef>().notNull(),
    modelVersionId: text('model_version_id')
      .notNull()
      .references(() => modelVersions.id),
    variants: jsonb('variants').$type<RolloutVariant[]>().notNull(),
    /** Tag selector (`site=lab,camera!=csi`); empty: every device in service. */
    selector: text('selector').notNull(),
    gates: jsonb('gates').$type<RolloutGates>().notNull(),
    abortCriteria: jsonb('abort_criteria').$type<AbortCriterion[]>().notNull(),
    maxConcurrentInstalls: integer('max_concurrent_installs').notNull(),
    installTimeoutSeconds: integer('install_timeout_seconds').notNull(),
    /** Further installs of a device after an install failure or time-out (never after a health gate failure). */
    installRetries: integer('install_retries').notNull().default(0),
    /** Devices that come to match the selector later join the rollout (until it ends or is superseded). */
    acceptsNewDevices: boolean('accepts_new_devices').notNull(),
    /** Devices placed first in the order (the canaries), then the rest by a hash of `orderSeed` and the id. */
    canaryDevices: jsonb('canary_devices').$type<string[]>().notNull(),
    orderSeed: text('order_seed').notNull(),
    currentPhase: integer('current_phase').notNull().default(0),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [index('rollouts_state_idx').on(table.state), index('rollouts_seq_idx').on(table.seq)],
);

/** The phases of a rollout; sizes are cumulative (phase 2 at 10% means 10% of the targets after phase 2). */
export const rolloutPhases = pgTable(
  'rollout_phases',
  {
    rolloutId: text('rollout_id')
      .notNull()
      .references(() => rollouts.id, { onDelete: 'cascade' }),
    index: integer('index').notNull(),
    name: text('name').notNull(),
    count: integer('count'),
    percent: doublePrecision('percent'),
    successThresholdPercent: doublePrecision('success_threshold_percent').notNull(),
    soakSeconds: integer('soak_seconds').notNull(),
    approval: text('approval').$type<'automatic' | 'manual'>().notNull(),
    state: text('state').$type<PhaseState>().notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    approvedBy: text('approved_by'),
  },
  (table) => [primaryKey({ columns: [table.rolloutId, table.index] })],
);

/** The model a device ran before a rollout switched it; `modelVersionId` null with a model: not in the registry. */
export interface PreviousModel {
  model: DeviceModelRef | null;
  modelVersionId: string | null;
}

/** The floors one device's health check used, and where they came from. */
export interface TargetGate {
  minFps: number;
  minAccuracy: number | null;
  fpsBasis: string;
  accuracyBasis: string | null;
}

/** One device of a rollout: where it is in the order, its state, and what it measured. */
export const rolloutTargets = pgTable(
  'rollout_targets',
  {
    rolloutId: text('rollout_id')
      .notNull()
      .references(() => rollouts.id, { onDelete: 'cascade' }),
    deviceId: text('device_id').notNull(),
    /** Position in the rollout's order (0 first). */
    position: integer('position').notNull(),
    state: text('state').$type<TargetState>().notNull(),
    /** The phase in which the device was started; null while pending or when skipped unstarted. */
    phaseIndex: integer('phase_index'),
    /** What this device gets (the rollout's model, or a variant's). */
    model: jsonb('model').$type<RolloutModelRef>().notNull(),
    previous: jsonb('previous').$type<PreviousModel>(),
    gate: jsonb('gate').$type<TargetGate>(),
    /** Installs issued for the device (1 + retries). */
    attempts: integer('attempts').notNull().default(0),
    /** The apply job and its last observed status (observations only ever move forward). */
    jobId: text('job_id'),
    jobStatus: text('job_status').$type<JobExecutionStatus>(),
    jobVersion: integer('job_version'),
    jobDetails: jsonb('job_details').$type<JobStatusDetails>(),
    jobObservedAt: timestamp('job_observed_at', { withTimezone: true }),
    /** The desired state version the apply job installs (what the agent's crash-loop report names). */
    jobDesiredVersion: integer('job_desired_version'),
    /** The agent's own crash-loop rollback of this install, from its birth (`lastRollback`). */
    crashReport: jsonb('crash_report').$type<AutomaticRollback>(),
    /** When a replica took the start (or rollback) to issue it; a stale claim is taken over. */
    actionClaimedAt: timestamp('action_claimed_at', { withTimezone: true }),
    /** Why issuing the start or rollback failed (turned into a failure by the next step). */
    actionError: text('action_error'),
    installDeadline: timestamp('install_deadline', { withTimezone: true }),
    measuredFps: doublePrecision('measured_fps'),
    measuredAccuracy: doublePrecision('measured_accuracy'),
    /** The device's session number when it switched; new sessions during the soak count as restarts. */
    sessionSeqAtSwitch: bigint('session_seq_at_switch', { mode: 'number' }),
    switchedAt: timestamp('switched_at', { withTimezone: true }),
    soakUntil: timestamp('soak_until', { withTimezone: true }),
    failureType: text('failure_type').$type<FailureType>(),
    failureReason: text('failure_reason'),
    rollbackJobId: text('rollback_job_id'),
    rollbackJobStatus: text('rollback_job_status').$type<JobExecutionStatus>(),
    rollbackJobVersion: integer('rollback_job_version'),
    rollbackJobDetails: jsonb('rollback_job_details').$type<JobStatusDetails>(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.rolloutId, table.deviceId] }),
    index('rollout_targets_device_idx').on(table.deviceId),
    index('rollout_targets_job_idx').on(table.jobId),
    index('rollout_targets_rollback_job_idx').on(table.rollbackJobId),
    index('rollout_targets_state_idx').on(table.rolloutId, table.state),
  ],
);

export const ROLLOUT_EVENT_SCOPES = ['rollout', 'phase', 'device'] as const;
export type RolloutEventScope = (typeof ROLLOUT_EVENT_SCOPES)[number];

/**
 * Every transition of a rollout, its phases and its devices, in commit order of the id: the source of the
 * rollout event stream and of rollout webhooks.
 */
export const rolloutEvents = pgTable(
  'rollout_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    rolloutId: text('rollout_id')
      .notNull()
      .references(() => rollouts.id, { onDelete: 'cascade' }),
    scope: text('scope').$type<RolloutEventScope>().notNull(),
    phaseIndex: integer('phase_index'),
    deviceId: text('device_id'),
    fromState: text('from_state'),
    toState: text('to_state').notNull(),
    reason: text('reason'),
    details: jsonb('details').$type<Record<string, unknown>>(),
    /** `token:<name>` for operator actions, `rollout-engine` for the engine's own transitions. */
    actor: text('actor').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('rollout_events_rollout_idx').on(table.rolloutId, table.id),
    index('rollout_events_created_idx').on(table.createdAt),
  ],
);

export type RolloutRow = typeof rollouts.$inferSelect;
export type RolloutPhaseRow = typeof rolloutPhases.$inferSelect;
export type RolloutTargetRow = typeof rolloutTargets.$inferSelect;
export type RolloutEventRow = typeof rolloutEvents.$inferSelect;
