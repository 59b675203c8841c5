import { UnprocessableEntityException } from '@nestjs/common';
import { BuildPlanError, GPU_ARCHITECTURES, planEngineBuild } from '@emofleet/darknet';
import {
  type BuildEngineParameters,
  calibrationCacheFileName,
  type EngineCalibrationCache,
  trtexecFlagValue,
} from '@emofleet/protocol';
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

/** The calibration cache of an int8 build: the version's `tensorrt-calibration-cache` file (the quantize job's). */
export interface CalibrationCacheFile {
  sha256: string;
  sizeBytes: number;
}

/**
 * Why `gpuArch` cannot build int8 engines, or undefined (also for an arch libs/darknet does not know: the plan
 * names that). libs/darknet's table follows TensorRT's hardware precision matrix: INT8 from compute capability
 * 6.1 on, except 6.2 (Jetson TX2); sm_53 (TX1, Nano) has none.
 */
export function int8Refusal(gpuArch: string): string | undefined {
  const architecture = GPU_ARCHITECTURES.find((candidate) => candidate.arch === gpuArch);
  if (architecture === undefined || architecture.int8) return undefined;
  const capable = GPU_ARCHITECTURES.filter((candidate) => candidate.int8)
    .map((candidate) => `${candidate.arch} (${candidate.devices.join(', ')})`)
    .join(', ');
  return (
    `precision: int8 is not available on ${architecture.arch} (${architecture.devices.join(', ')}): TensorRT has ` +
    `INT8 kernels from compute capability 6.1 on, except 6.2; build fp16 there, or int8 for ${capable}`
  );
}

/**
 * The TensorRT `major.minor` a calibration cache was written for, from its header line
 * (`TRT-8201-EntropyCalibration2` → 8.2; the number is major·1000 + minor·100 + patch), or undefined.
 */
export function calibrationCacheTensorRt(firstLine: string): string | undefined {
  const match = /^TRT-(\d{3,6})-[A-Za-z0-9]+$/.exec(firstLine.trim());
  if (match === null) return undefined;
  const number = Number(match[1]);
  return `${Math.floor(number / 1000)}.${Math.floor((number % 1000) / 100)}`;
}

/** The sha256 of the calibration cache an int8 plan passes (`--calib=calibration-<sha256>.cache`), or undefined. */
export function calibrationSha256Of(plan: EngineBuildPlan): string | undefined {
  const file = trtexecFlagValue(plan.argv, '--calib')?.replace(/^\.\//, '');
  return /^calibration-([0-9a-f]{64})\.cache$/.exec(file ?? '')?.[1];
}

/**
 * Plans the build of an engine for `request` from the ONNX export `onnxSha256` with libs/darknet: checks the
 * target against its TensorRT and GPU tables and returns the cache key and the trtexec command. Paths are
 * relative (`model.onnx`, `./<cacheKey>.engine`, `calibration-<sha256>.cache`): the builder runs trtexec in a
 * directory of its own. An int8 build takes the version's calibration cache (its sha256 enters the cache key
 * and the `--calib` file name). 422 (naming the field) for a target the toolchain refuses.
 */
export function planBuild(
  request: EngineRequest,
  onnxSha256: string,
  calibrationCache?: CalibrationCacheFile,
): PlannedBuild {
  if (request.precision === 'int8') {
    const refusal = int8Refusal(request.gpuArch);
    if (refusal !== undefined) throw new UnprocessableEntityException(refusal);
    if (calibrationCache === undefined) {
      throw new UnprocessableEntityException(
        "precision: int8 needs the model version's TensorRT calibration cache; run POST " +
          '/models/:name/versions/:version/quantize first',
      );
    }
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
        ...(request.precision === 'int8' && calibrationCache !== undefined
          ? {
              calibrationCache: {
                path: calibrationCacheFileName(calibrationCache.sha256),
                sha256: calibrationCache.sha256,
              },
            }
          : {}),
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
  calibrationCache?: CalibrationCacheFile,
): Omit<BuildEngineParameters, 'signature' | 'uploadUrl' | 'source' | 'calibrationCache'> & {
  source: { format: 'onnx'; sha256: string; sizeBytes: number };
  calibrationCache?: Omit<EngineCalibrationCache, 'url'>;
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
    ...(calibrationCache === undefined
      ? {}
      : {
          calibrationCache: {
            format: 'tensorrt-calibration-cache' as const,
            sha256: calibrationCache.sha256,
            sizeBytes: calibrationCache.sizeBytes,
          },
        }),
    trtexecArgs: build.plan.argv.slice(1),
  };
}
