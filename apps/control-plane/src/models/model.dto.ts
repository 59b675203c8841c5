import { modelIdSchema } from '@emofleet/protocol';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { MODEL_FILE_ROLES, MODEL_VERSION_STATUSES } from '../database/schema';

export const modelNameSchema = modelIdSchema;

export const transformSpecSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('replace-3x3-with-1x1'),
    /** Layer numbers as the paper counts them (1-based over all layers). */
    paperLayers: z.array(z.number().int().min(1)).min(1),
  }),
  z.object({ kind: z.literal('fold-batch-norm') }),
]);

const fileSchema = z.object({
  role: z.enum(MODEL_FILE_ROLES),
  fileName: z.string(),
  sha256: z.string(),
  sizeBytes: z.number().int(),
});

const manifestSchema = z.object({
  modelId: z.string(),
  version: z.string(),
  format: z.string(),
  sha256: z.string(),
  sizeBytes: z.number().int(),
  /** ed25519 over libs/protocol's canonical manifest bytes; key at `GET /signing-key`. */
  signature: z.string(),
});

export const modelVersionSummarySchema = z.object({
  id: z.string(),
  model: z.string(),
  version: z.number().int(),
  status: z.enum(MODEL_VERSION_STATUSES),
  statusReason: z.string().nullable(),
  parentVersion: z.number().int().nullable(),
  transforms: z.array(transformSpecSchema),
  uploadedBy: z.string(),
  classes: z.number().int(),
  inputShape: z.array(z.number().int()),
  totals: z.object({ params: z.number(), flops: z.number() }),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
});

export const analysisSchema = z.object({
  layers: z.array(
    z.object({
      index: z.number().int(),
      type: z.string(),
      output: z.array(z.number().int()),
      /** Kernel side of a convolution (1x1, 3x3, ...); absent for other layers and versions analysed before it. */
      kernelSize: z.number().int().optional(),
      params: z.number(),
      flops: z.number(),
    }),
  ),
  totals: z.object({ params: z.number(), flops: z.number() }),
});

export const modelVersionDetailSchema = modelVersionSummarySchema.extend({
  analysis: analysisSchema,
  files: z.array(fileSchema),
  manifests: z.array(manifestSchema),
  baseline: z.record(z.string(), z.unknown()).nullable(),
  /** Pipeline jobs of this version (`GET /jobs/:id` for logs). */
  jobs: z.array(
    z.object({ id: z.string(), queue: z.string(), status: z.string(), progress: z.number().int() }),
  ),
});

export const modelVersionCreatedSchema = modelVersionSummarySchema.extend({
  /** The convert job started for the version. */
  jobId: z.string(),
});

export const modelListSchema = z.object({
  items: z.array(
    z.object({
      name: z.string(),
      versions: z.number().int(),
      latestVersion: z.number().int().nullable(),
      createdAt: z.string().datetime(),
    }),
  ),
});

export const modelVersionListSchema = z.object({ items: z.array(modelVersionSummarySchema) });

export const versionFromPathSchema = z.object({
  cfgPath: z.string().min(1),
  weightsPath: z.string().min(1),
  namesPath: z.string().min(1),
  evalSetPath: z.string().min(1).optional(),
  /** Images (zip/tar, labels optional) an INT8 plan is calibrated on (`POST .../quantize`). */
  calibrationSetPath: z.string().min(1).optional(),
  /** A two-stage bundle: the classifier run on each detected box, and bundle.json describing both stages. */
  classifierCfgPath: z.string().min(1).optional(),
  classifierWeightsPath: z.string().min(1).optional(),
  classifierNamesPath: z.string().min(1).optional(),
  bundlePath: z.string().min(1).optional(),
  transforms: z.array(transformSpecSchema).default([]),
  parentVersion: z.number().int().min(1).optional(),
});

export const versionParamsSchema = z.object({
  name: modelNameSchema,
  version: z.coerce.number().int().min(1),
});
export const modelParamsSchema = z.object({ name: modelNameSchema });

export class ModelListDto extends createZodDto(modelListSchema) {}
export class ModelVersionListDto extends createZodDto(modelVersionListSchema) {}
export class ModelVersionDetailDto extends createZodDto(modelVersionDetailSchema) {}
export class ModelVersionCreatedDto extends createZodDto(modelVersionCreatedSchema) {}
export class VersionFromPathDto extends createZodDto(versionFromPathSchema) {}
export class VersionParamsDto extends createZodDto(versionParamsSchema) {}
export class ModelParamsDto extends createZodDto(modelParamsSchema) {}
