import type { EnginePrecision, TrtexecTiming } from '@emofleet/protocol';
import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Where a build is: `queued` (waiting for a builder, or for its next attempt), `building` (a device job is out),
 * `succeeded` (the engine is stored: the cache entry), `failed` (every attempt failed; a new request retries).
 */
export const ENGINE_BUILD_STATUSES = ['queued', 'building', 'succeeded', 'failed'] as const;
export type EngineBuildStatus = (typeof ENGINE_BUILD_STATUSES)[number];

/** The device class an engine is for, and the builder settings, as requested and resolved by libs/darknet. */
export interface EngineBuildTarget {
  gpuArch: string;
  /** TensorRT `major.minor`. */
  tensorrt: string;
  jetpack: string | null;
  precision: EnginePrecision;
  workspaceMiB: number;
}

/** libs/darknet's trtexec plan, as sent to the builder (argv without paths of the control plane). */
export interface EngineBuildPlan {
  argv: string[];
  commandLine: string;
  notes: string[];
}

/**
 * TensorRT engines by the toolchain's cache key (model sha256, GPU arch, TensorRT version, precision): one row
 * per key, so a second request for a key that is built or building builds nothing (docs/engines.md).
 */
export const engineBuilds = pgTable(
  'engine_builds',
  {
    cacheKey: text('cache_key').primaryKey(),
    /** The version whose request started the build; versions with the same ONNX export share the engine. */
    versionId: text('version_id').notNull(),
    target: jsonb('target').$type<EngineBuildTarget>().notNull(),
    plan: jsonb('plan').$type<EngineBuildPlan>().notNull(),
    /** The ONNX file the builder downloads (sha256), which it is allowed to fetch while it builds. */
    inputSha256: text('input_sha256').notNull(),
    status: text('status').$type<EngineBuildStatus>().notNull().default('queued'),
    /** The device building (while `building`), or the one that built or last failed. */
    builderDeviceId: text('builder_device_id'),
    /** The current attempt's `build-engine` job (device-jobs layer); null between attempts. */
    deviceJobId: text('device_job_id'),
    /** The engine the builder uploaded for the current job; final once `succeeded`. */
    engineSha256: text('engine_sha256'),
    engineSizeBytes: bigint('engine_size_bytes', { mode: 'number' }),
    /** trtexec's performance summary as the builder parsed it. */
    timing: jsonb('timing').$type<TrtexecTiming>(),
    /** The TensorRT version trtexec named in its output. */
    tensorrtVersion: text('tensorrt_version'),
    buildMs: integer('build_ms'),
    /** The tail of the builder's output (success or the last failure). */
    buildLog: text('build_log'),
    failedReason: text('failed_reason'),
    requestedBy: text('requested_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [index('engine_builds_input_idx').on(table.inputSha256)],
);

export type EngineBuildRow = typeof engineBuilds.$inferSelect;
export type NewEngineBuild = typeof engineBuilds.$inferInsert;
