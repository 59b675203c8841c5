import { trtexecTimingSchema } from '@emofleet/protocol';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { ENGINE_BUILD_STATUSES } from '../database/schema/engine-builds';

export const modelVersionParamsSchema = z.object({
  versionId: z
    .string()
    .regex(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      'must be a model version id (the `id` of GET /models/:name/versions/:version)',
    ),
});
export class ModelVersionParamsDto extends createZodDto(modelVersionParamsSchema) {}

export const cacheKeyParamsSchema = z.object({
  cacheKey: z.string().regex(/^[0-9a-f]{64}$/, 'must be an engine cache key (64 lower-case hex digits)'),
});
export class CacheKeyParamsDto extends createZodDto(cacheKeyParamsSchema) {}

export const engineRequestSchema = z
  .object({
    gpuArch: z
      .string()
      .regex(/^sm_\d{2,3}$/, 'must be the CUDA arch of the devices, e.g. sm_53 (TX1, Nano)')
      .describe('CUDA architecture of the target devices, e.g. sm_53 (TX1, Nano), sm_62 (TX2), sm_72, sm_87'),
    tensorrt: z
      .string()
      .regex(/^\d+\.\d+(\.\d+)*$/, 'must be a TensorRT version such as 8.2 or 8.2.1')
      .optional()
      .describe('TensorRT version of the devices (major.minor counts); derived from jetpack when absent'),
    jetpack: z
      .string()
      .regex(/^\d+(\.\d+)*$/, 'must be a JetPack release such as 4.6.1')
      .optional()
      .describe('JetPack release of the devices; narrows the builder choice to that release'),
    precision: z
      .enum(['fp32', 'fp16', 'int8'])
      .describe(
        "fp16 is fast on every Jetson GPU. int8 builds with the version's TensorRT calibration cache (run " +
          'POST /models/:name/versions/:version/quantize first; 422 without one) and needs INT8 kernels: ' +
          'sm_72 (Xavier) or sm_87 (Orin), not sm_53 (TX1, Nano) or sm_62 (TX2); the cache must be written ' +
          "for the target's TensorRT major.minor (the quantize job writes TensorRT 8.2.1, JetPack 4.6.1+)",
      ),
    workspaceMiB: z
      .number()
      .int()
      .min(1)
      .max(65_536)
      .default(256)
      .describe('builder workspace limit in MiB (trtexec --workspace / --memPoolSize)'),
  })
  .strict()
  .refine((body) => body.tensorrt !== undefined || body.jetpack !== undefined, {
    message: 'give tensorrt, jetpack or both',
    path: ['tensorrt'],
  });
export class EngineRequestDto extends createZodDto(engineRequestSchema) {}

export const engineBuildSchema = z.object({
  cacheKey: z
    .string()
    .describe(
      "libs/darknet's engine cache key: model sha256, GPU arch, TensorRT, precision (and, for int8, the " +
        "calibration cache's sha256)",
    ),
  jobId: z.string().describe('the pipeline job (GET /jobs/:id)'),
  modelVersionId: z.string().describe('the version whose request started the build'),
  status: z.enum(ENGINE_BUILD_STATUSES),
  target: z.object({
    gpuArch: z.string(),
    tensorrt: z.string(),
    jetpack: z.string().nullable(),
    precision: z.enum(['fp32', 'fp16', 'int8']),
    workspaceMiB: z.number().int(),
  }),
  plan: z.object({ commandLine: z.string(), notes: z.array(z.string()) }),
  inputSha256: z.string().describe('the ONNX export the engine is built from'),
  builderDeviceId: z.string().nullable(),
  deviceJobId: z.string().nullable().describe('the current attempt’s build-engine device job'),
  engine: z
    .object({
      sha256: z.string().describe('download with GET /artifacts/:sha256'),
      sizeBytes: z.number().int(),
      tensorrtVersion: z.string().nullable(),
      buildMs: z.number().int().nullable(),
    })
    .nullable(),
  timing: trtexecTimingSchema.nullable().describe("trtexec's performance summary on the builder"),
  buildLog: z.string().nullable().describe("the tail of the builder's output"),
  failedReason: z.string().nullable(),
  requestedBy: z.string().nullable(),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
  finishedAt: z.string().datetime().nullable(),
});
export class EngineBuildDto extends createZodDto(engineBuildSchema) {}

export const engineRequestResultSchema = engineBuildSchema.extend({
  cached: z.boolean().describe('true: the engine was built before, nothing new is built'),
});
export class EngineRequestResultDto extends createZodDto(engineRequestResultSchema) {}

export const engineBuildListSchema = z.object({ items: z.array(engineBuildSchema) });
export class EngineBuildListDto extends createZodDto(engineBuildListSchema) {}

export const engineUploadResultSchema = z.object({ sha256: z.string(), sizeBytes: z.number().int() });
export class EngineUploadResultDto extends createZodDto(engineUploadResultSchema) {}
