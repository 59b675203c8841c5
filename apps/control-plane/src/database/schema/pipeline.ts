import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

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

export type PipelineJobRow = typeof pipelineJobs.$inferSelect;
