import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const PIPELINE_JOB_STATUSES = ['queued', 'active', 'completed', 'failed'] as const;
export type PipelineJobStatus = (typeof PIPELINE_JOB_STATUSES)[number];

/**
 * The durable mirror of every BullMQ pipeline job: what `GET /jobs/:id` shows, and what the chain is resumed
 * from, even when Redis lost the job. The id is the deterministic BullMQ job id (e.g. `convert-<versionId>`).
 */
export const pipelineJobs = pgTable(
  'pipeline_jobs',
  {
    id: text('id').primaryKey(),
    queue: text('queue').notNull(),
    versionId: text('version_id'),
    status: text('status').$type<PipelineJobStatus>().notNull().default('queued'),
    progress: integer('progress').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    logs: jsonb('logs')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    input: jsonb('input').$type<unknown>().notNull(),
    result: jsonb('result').$type<unknown>(),
    failedReason: text('failed_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [index('pipeline_jobs_version_idx').on(table.versionId)],
);

export const ENGINE_BUILD_STATUSES = ['queued', 'building', 'succeeded', 'failed'] as const;
export type EngineBuildStatus = (typeof ENGINE_BUILD_STATUSES)[number];

/**
 * TensorRT engines by the toolchain's cache key (model sha256, GPU arch, TensorRT version, precision): one row
 * per key, so a second request for a key that is built or building builds nothing.
 */
export const engineBuilds = pgTable('engine_builds', {
  cacheKey: text('cache_key').primaryKey(),
  versionId: text('version_id').notNull(),
  target: jsonb('target').$type<unknown>().notNull(),
  plan: jsonb('plan').$type<unknown>().notNull(),
  /** The model file the builder downloads (ONNX or Caffe), which the builder is allowed to fetch. */
  inputSha256: text('input_sha256').notNull(),
  status: text('status').$type<EngineBuildStatus>().notNull().default('queued'),
  builderDeviceId: text('builder_device_id'),
  /** The MQTT job execution on the builder (libs/protocol jobs); a new one per attempt. */
  deviceJobId: text('device_job_id'),
  /** The execution's `versionNumber` (optimistic concurrency of job updates). */
  executionVersion: integer('execution_version').notNull().default(0),
  engineSha256: text('engine_sha256'),
  engineSizeBytes: bigint('engine_size_bytes', { mode: 'number' }),
  buildLogSha256: text('build_log_sha256'),
  /** trtexec's timing summary as the builder reported it. */
  timing: text('timing'),
  failedReason: text('failed_reason'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type PipelineJobRow = typeof pipelineJobs.$inferSelect;
export type EngineBuildRow = typeof engineBuilds.$inferSelect;
