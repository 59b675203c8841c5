import type { HealthCheckSpec, JobExecutionStatus, JobStatusDetails } from '@emofleet/protocol';
import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { devices } from './devices';
import { modelVersions } from './models';

/**
 * One job execution on one device (docs/device-jobs.md). `versionNumber` is the optimistic-concurrency counter
 * of docs/protocol.md; `seq` orders a device's executions (the oldest pending one is the device's next job).
 */
export const deviceJobExecutions = pgTable(
  'device_job_executions',
  {
    jobId: text('job_id').primaryKey(),
    seq: bigserial('seq', { mode: 'number' }).notNull().unique('device_job_executions_seq_uq'),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id),
    operation: text('operation').notNull(),
    parameters: jsonb('parameters')
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    status: text('status').$type<JobExecutionStatus>().notNull().default('QUEUED'),
    versionNumber: integer('version_number').notNull().default(1),
    statusDetails: jsonb('status_details')
      .$type<JobStatusDetails>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    rolloutId: text('rollout_id'),
    /** For `apply-desired-state`: the model version desired (null: run no model) and the desiredVersion. */
    modelVersionId: text('model_version_id').references(() => modelVersions.id),
    desiredVersion: integer('desired_version'),
    /** Who queued it: `token:<name>`, `rollout:<id>`, ... */
    createdBy: text('created_by').notNull(),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** When a job still unfinished becomes TIMED_OUT; null: never. */
    timeoutAt: timestamp('timeout_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('device_job_executions_device_seq_idx').on(table.deviceId, table.seq),
    index('device_job_executions_rollout_idx').on(table.rolloutId),
    index('device_job_executions_pending_timeout_idx')
      .on(table.timeoutAt)
      .where(sql`${table.status} in ('QUEUED', 'IN_PROGRESS') and ${table.timeoutAt} is not null`),
  ],
);

/** Append-only history of a job execution: every accepted device update and every control-plane change. */
export const deviceJobUpdates = pgTable(
  'device_job_updates',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: text('job_id')
      .notNull()
      .references(() => deviceJobExecutions.jobId, { onDelete: 'cascade' }),
    status: text('status').$type<JobExecutionStatus>().notNull(),
    step: text('step'),
    details: jsonb('details')
      .$type<JobStatusDetails>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    /** The execution's versionNumber after this update. */
    versionNumber: integer('version_number').notNull(),
    /** `device`, or who changed it on the control plane (`token:<name>`, `timeout`). */
    source: text('source').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('device_job_updates_job_idx').on(table.jobId, table.id)],
);

/** What each device should run: the source of its retained `desired` message. */
export const deviceDesiredStates = pgTable('device_desired_states', {
  deviceId: text('device_id')
    .primaryKey()
    .references(() => devices.id),
  /** Increases with every change for the device (docs/protocol.md "Desired state"). */
  desiredVersion: integer('desired_version').notNull(),
  /** null: run no model. */
  modelVersionId: text('model_version_id').references(() => modelVersions.id),
  healthCheck: jsonb('health_check').$type<HealthCheckSpec>(),
  rolloutId: text('rollout_id'),
  issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
  issuedBy: text('issued_by').notNull(),
});

export type DeviceJobExecutionRow = typeof deviceJobExecutions.$inferSelect;
export type DeviceJobUpdateRow = typeof deviceJobUpdates.$inferSelect;
export type DeviceDesiredStateRow = typeof deviceDesiredStates.$inferSelect;
