import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';

/** A named model; its content lives in numbered versions. */
export const models = pgTable('models', {
  name: text('name').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Where a version is in the pipeline: uploaded → converting → benchmarking → ready, or failed. */
export const MODEL_VERSION_STATUSES = [
  'uploaded',
  'converting',
  'benchmarking',
  'ready',
  /** An INT8 plan is being calibrated and checked against the accuracy budget (`POST …/quantize`). */
  'quantizing',
  'failed',
] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

/** One transform as requested at upload and applied by the convert job. */
export type TransformSpec =
  | { kind: 'replace-3x3-with-1x1'; paperLayers: number[] }
  | { kind: 'fold-batch-norm' };

export const modelVersions = pgTable(
  'model_versions',
  {
    id: text('id').primaryKey(),
    modelName: text('model_name')
      .notNull()
      .references(() => models.name),
    /** 1, 2, 3... per model. */
    version: integer('version').notNull(),
    parentVersionId: text('parent_version_id'),
    transforms: jsonb('transforms')
      .$type<TransformSpec[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    uploadedBy: text('uploaded_by').notNull(),
    status: text('status').$type<ModelVersionStatus>().notNull().default('uploaded'),
    statusReason: text('status_reason'),
    /** `inspectNetwork` of the uploaded cfg: per-layer params and FLOPs, totals. */
    analysis: jsonb('analysis').$type<unknown>().notNull(),
    classes: integer('classes').notNull(),
    inputShape: jsonb('input_shape').$type<[number, number, number]>().notNull(),
    /** The benchmark job's result: FPS, latency percentiles, accuracy on the eval set. */
    baseline: jsonb('baseline').$type<unknown>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [unique('model_versions_model_version_uq').on(table.modelName, table.version)],
);

/** What a stored file is to its version. */
export const MODEL_FILE_ROLES = [
  'cfg',
  'weights',
  'names',
  'eval-set',
  /** The second stage of a two-stage bundle (classifier run on each detected box) and its bundle.json. */
  'classifier-cfg',
  'classifier-weights',
  'classifier-names',
  'bundle-description',
  'darknet-bundle',
  'converted-cfg',
  'converted-weights',
  'onnx',
  'caffe-prototxt',
  'caffe-model',
  'calibration-set',
  'int8-plan',
  'tensorrt-calibration-cache',
] as const;
export type ModelFileRole = (typeof MODEL_FILE_ROLES)[number];

/** The artifacts (by sha256) that make up or were derived from a version. */
export const modelVersionFiles = pgTable(
  'model_version_files',
  {
    versionId: text('version_id')
      .notNull()
      .references(() => modelVersions.id, { onDelete: 'cascade' }),
    role: text('role').$type<ModelFileRole>().notNull(),
    fileName: text('file_name').notNull(),
    sha256: text('sha256').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.versionId, table.role] }),
    index('model_version_files_sha256_idx').on(table.sha256),
  ],
);

/** A signed manifest (libs/protocol) of one deliverable of a version: the darknet bundle, ONNX, an engine. */
export const modelManifests = pgTable(
  'model_manifests',
  {
    versionId: text('version_id')
      .notNull()
      .references(() => modelVersions.id, { onDelete: 'cascade' }),
    format: text('format').notNull(),
    sha256: text('sha256').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    signature: text('signature').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.versionId, table.sha256] }),
    index('model_manifests_sha256_idx').on(table.sha256),
  ],
);

export type ModelVersionRow = typeof modelVersions.$inferSelect;
export type ModelVersionFileRow = typeof modelVersionFiles.$inferSelect;
export type ModelManifestRow = typeof modelManifests.$inferSelect;
