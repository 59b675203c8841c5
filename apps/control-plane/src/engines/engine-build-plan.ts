import { UnprocessableEntityException } from '@nestjs/common';
import { BuildPlanError, planEngineBuild } from '@emofleet/darknet';
import { type BuildEngineParameters } from '@emofleet/protocol';
import { type EngineBuildPlan, type EngineBuildTarget } from '../database/schema/engine-builds';

/** The model file name the builder saves the ONNX export as, inside its private build directory. */
export const BUILDER_MODEL_FILE = 'model.onnx';

export interface EngineRequest {
  gpuArch: string;
  tensorrt?: string;
  jetpack?: string;
  precision: 'fp32' | 'fp16' | 'int8';
  workspaceMiB: number;
}

export interface PlannedBuild {
  cacheKey: string;
  target: EngineBuildTarget;
  plan: EngineBuildPlan;
}

/**
 * Plans the build of an engine for `request` from the ONNX export `onnxSha256` with libs/darknet: checks the
 * target against its TensorRT and GPU tables and returns the cache key and the trtexec command. Paths are
 * relative (`model.onnx`, `./<cacheKey>.engine`): the builder runs trtexec in a directory of its own.
 * 422 (naming the field) for a target the toolchain refuses.
 */
export function planBuild(request: EngineRequest, onnxSha256: string): PlannedBuild {
  if (request.precision === 'int8') {
    throw new UnprocessableEntityException(
      'precision: int8 needs a calibration cache, which engine builds do not take yet; use fp16 or fp32',
    );
  }
  let plan;
  try {
    plan = planEngineBuild(
      {
        gpuArch: request.gpuArch,
        tensorrt: request.tensorrt,
        jetpack: request.jetpack,
        precision: request.precision,
        workspaceMiB: request.workspaceMiB,
      },
      { format: 'onnx', path: BUILDER_MODEL_FILE, sha256: onnxSha256 },
      '.',
    );
  } catch (error) {
    if (error instanceof BuildPlanError) throw new UnprocessableEntityException(`target: ${error.message}`);
    throw error;
  }
  return {
    cacheKey: plan.cacheKey,
    target: {
      gpuArch: plan.architecture.arch,
      tensorrt: plan.release.version,
      jetpack: request.jetpack ?? null,
      precision: request.precision,
      workspaceMiB: request.workspaceMiB,
    },
    plan: { argv: [...plan.argv], commandLine: plan.commandLine, notes: [...plan.notes] },
  };
}

/** The `build-engine` order without URLs and signature: what the control plane signs. */
export function buildOrder(
  build: { cacheKey: string; versionId: string; target: EngineBuildTarget; plan: EngineBuildPlan },
  source: { sha256: string; sizeBytes: number },
): Omit<BuildEngineParameters, 'signature' | 'uploadUrl' | 'source'> & {
  source: { format: 'onnx'; sha256: string; sizeBytes: number };
} {
  return {
    modelVersionId: build.versionId,
    cacheKey: build.cacheKey,
    target: {
      gpuArch: build.target.gpuArch,
      tensorrt: build.target.tensorrt,
      ...(build.target.jetpack === null ? {} : { jetpack: build.target.jetpack }),
      precision: build.target.precision,
    },
    source: { format: 'onnx', sha256: source.sha256, sizeBytes: source.sizeBytes },
    trtexecArgs: build.plan.argv.slice(1),
  };
}
