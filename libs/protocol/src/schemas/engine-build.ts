import { z } from 'zod';
import { identifierSchema } from '../identifiers';
import {
  byteCountSchema,
  httpUrlSchema,
  nonNegativeIntegerSchema,
  sha256Schema,
  versionStringSchema,
} from './common';
import { ed25519SignatureSchema } from './desired-state';

/** CUDA architecture of a GPU as TensorRT and libs/darknet name it, e.g. `sm_53` (Jetson TX1, Nano). */
export const gpuArchSchema = z.string().regex(/^sm_\d{2,3}$/, 'GPU arch must look like sm_53');

/**
 * Precisions a `build-engine` job may ask for. `int8` was added compatibly: such a job also carries the TensorRT
 * calibration cache (`calibrationCache`), which agents that predate it cannot parse, so they refuse the job.
 */
export const enginePrecisionSchema = z.enum(['fp32', 'fp16', 'int8']);

/**
 * The class of devices an engine is for: a serialized TensorRT engine runs only on the GPU arch and the
 * TensorRT `major.minor` it was built with. `jetpack` is present when the request named a JetPack release.
 */
export const engineTargetSchema = z.object({
  gpuArch: gpuArchSchema,
  tensorrt: z.string().regex(/^\d{1,2}\.\d{1,2}$/, 'TensorRT version must be major.minor, e.g. 8.2'),
  jetpack: versionStringSchema.optional(),
  precision: enginePrecisionSchema,
});

/** The model the builder downloads (with its device credentials) and verifies before building. */
export const engineBuildSourceSchema = z.object({
  format: z.literal('onnx'),
  sha256: sha256Schema,
  sizeBytes: byteCountSchema.min(1),
  url: httpUrlSchema,
});

/** Largest calibration cache a job may carry (a cache holds one short line per tensor: a few KiB in practice). */
export const MAX_CALIBRATION_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * The TensorRT INT8 calibration cache of an `int8` build (the `quantize` job's `tensorrt-calibration-cache`), which
 * the builder downloads with its device credentials and verifies (size, sha256) into the build directory under
 * the `--calib` file name before running trtexec.
 */
export const engineCalibrationCacheSchema = z.object({
  format: z.literal('tensorrt-calibration-cache'),
  sha256: sha256Schema,
  sizeBytes: byteCountSchema.min(1).max(MAX_CALIBRATION_CACHE_BYTES),
  url: httpUrlSchema,
});

/**
 * The `--calib` file name of an int8 build: it names the cache's sha256, so the order's signature (which covers
 * `trtexecArgs`) also binds the calibration cache the builder must use.
 */
export function calibrationCacheFileName(sha256: string): string {
  return `calibration-${sha256}.cache`;
}

/** A file name inside the build's own working directory (optionally `./`-prefixed): no directories, no `..`. */
const BUILD_FILE_NAME = /^(\.\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MEBIBYTES = /^[1-9]\d{0,6}$/;

/**
 * The trtexec flags a job may pass, with the form of their value: exactly what libs/darknet's build plans
 * produce for an ONNX model. Anything else (plugins, arbitrary paths) is refused, because the builder executes
 * these arguments.
 */
const TRTEXEC_FLAG_VALUES: Readonly<Record<string, RegExp | null>> = {
  '--onnx': BUILD_FILE_NAME,
  '--saveEngine': BUILD_FILE_NAME,
  '--explicitBatch': null,
  '--workspace': MEBIBYTES,
  '--memPoolSize': /^workspace:[1-9]\d{0,6}$/,
  '--fp16': null,
  '--int8': null,
  '--calib': BUILD_FILE_NAME,
};

/** Why one trtexec argument is not allowed, or undefined when it is. */
function trtexecArgumentProblem(argument: string): string | undefined {
  const equals = argument.indexOf('=');
  const flag = equals < 0 ? argument : argument.slice(0, equals);
  if (!Object.prototype.hasOwnProperty.call(TRTEXEC_FLAG_VALUES, flag)) {
    return `"${flag}" is not one of ${Object.keys(TRTEXEC_FLAG_VALUES).join(', ')}`;
  }
  const valueForm = TRTEXEC_FLAG_VALUES[flag] ?? null;
  if (valueForm === null) return equals < 0 ? undefined : `${flag} takes no value`;
  const value = equals < 0 ? '' : argument.slice(equals + 1);
  if (!valueForm.test(value)) {
    return flag === '--onnx' || flag === '--saveEngine' || flag === '--calib'
      ? `${flag} must name a file in the build directory (letters, digits, ".", "_", "-"), got "${value}"`
      : `${flag} has an invalid value "${value}"`;
  }
  return undefined;
}

/** The value of `--<flag>=` in trtexec arguments, or undefined. */
export function trtexecFlagValue(argumentsList: readonly string[], flag: string): string | undefined {
  const prefix = `${flag}=`;
  return argumentsList.find((argument) => argument.startsWith(prefix))?.slice(prefix.length);
}

/** trtexec's arguments (without the program name), as the control plane planned them. */
export const trtexecArgumentsSchema = z
  .array(z.string().min(1).max(256))
  .min(2)
  .max(16)
  .superRefine((argumentsList, ctx) => {
    const seen = new Set<string>();
    argumentsList.forEach((argument, index) => {
      const problem = trtexecArgumentProblem(argument);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: [index] });
      const flag = argument.split('=')[0] ?? argument;
      if (seen.has(flag)) ctx.addIssue({ code: 'custom', message: `${flag} is given twice`, path: [index] });
      seen.add(flag);
    });
    for (const required of ['--onnx', '--saveEngine']) {
      if (!seen.has(required)) ctx.addIssue({ code: 'custom', message: `${required}=<file> is missing` });
    }
  });

/**
 * `build-engine`: build a TensorRT engine for `target` from `source` with trtexec and upload it to `uploadUrl`.
 * `signature` is the control plane's ed25519 signature over `canonicalEngineBuildBytes` (cache key, model
 * version, source digest and size, target, arguments); URLs are not signed, the digests bind the content.
 */
export const buildEngineParametersSchema = z
  .object({
    /** The control plane's model version the engine is built for (for logs and the upload). */
    modelVersionId: identifierSchema('model version id'),
    /** libs/darknet's engine cache key: sha256 over model sha256, GPU arch, TensorRT version, precision. */
    cacheKey: sha256Schema,
    target: engineTargetSchema,
    source: engineBuildSourceSchema,
    /** The TensorRT calibration cache: present exactly when `target.precision` is `int8` (added compatibly). */
    calibrationCache: engineCalibrationCacheSchema.optional(),
    trtexecArgs: trtexecArgumentsSchema,
    /** Where the builder PUTs the engine (device credentials, `X-Content-SHA256`). */
    uploadUrl: httpUrlSchema,
    signature: ed25519SignatureSchema,
  })
  .superRefine((parameters, ctx) => {
    const { precision } = parameters.target;
    const { trtexecArgs, calibrationCache } = parameters;
    const problem = (message: string, path: string) =>
      ctx.addIssue({ code: 'custom', message, path: [path] });
    if (trtexecArgs.includes('--fp16') !== (precision === 'fp16')) {
      problem(
        `--fp16 must be given exactly when the precision is fp16 (precision ${precision})`,
        'trtexecArgs',
      );
    }
    if (trtexecArgs.includes('--int8') !== (precision === 'int8')) {
      problem(
        `--int8 must be given exactly when the precision is int8 (precision ${precision})`,
        'trtexecArgs',
      );
    }
    const calib = trtexecFlagValue(trtexecArgs, '--calib');
    if (precision !== 'int8') {
      if (calibrationCache !== undefined) {
        problem(`a calibration cache is only for int8 builds (precision ${precision})`, 'calibrationCache');
      }
      if (calib !== undefined) {
        problem(`--calib is only for int8 builds (precision ${precision})`, 'trtexecArgs');
      }
      return;
    }
    if (calibrationCache === undefined) {
      problem(
        'an int8 build needs its TensorRT calibration cache (format, sha256, sizeBytes, url)',
        'calibrationCache',
      );
      return;
    }
    const expected = calibrationCacheFileName(calibrationCache.sha256);
    if (calib?.replace(/^\.\//, '') !== expected) {
      problem(
        `an int8 build must pass --calib=${expected} (the calibration cache's sha256), got ${calib === undefined ? 'no --calib' : `--calib=${calib}`}`,
        'trtexecArgs',
      );
    }
  });

const millisecondsSchema = z.number().min(0).max(3_600_000);

/** trtexec's statistics of one measured quantity, in milliseconds. */
export const latencyStatisticsSchema = z.object({
  min: millisecondsSchema,
  max: millisecondsSchema,
  mean: millisecondsSchema,
  median: millisecondsSchema,
  p90: millisecondsSchema.optional(),
  p95: millisecondsSchema.optional(),
  p99: millisecondsSchema.optional(),
});

/** The performance summary trtexec prints after building (inference on random inputs for a few seconds). */
export const trtexecTimingSchema = z.object({
  throughputQps: z.number().min(0).max(10_000_000).optional(),
  /** Host latency per inference (TensorRT 8+: "Latency"; 7.x: "Host Latency"). */
  latencyMs: latencyStatisticsSchema.optional(),
  gpuComputeMs: latencyStatisticsSchema.optional(),
  totalHostWalltimeSeconds: z.number().min(0).max(86_400).optional(),
});

/** What a builder reports with SUCCEEDED: the engine it uploaded and trtexec's timing. */
export const builtEngineSchema = z.object({
  sha256: sha256Schema,
  sizeBytes: byteCountSchema.min(1),
  /** Wall time of the builder command. */
  buildMs: nonNegativeIntegerSchema,
  /** The TensorRT version trtexec named in its output (`[TensorRT v8201]` → 8.2.1), when it did. */
  tensorrtVersion: versionStringSchema.optional(),
  timing: trtexecTimingSchema,
});

/** Longest `statusDetails.logTail`; builders keep the last ~3.5 KB so an update stays within its 8 KiB. */
export const MAX_LOG_TAIL_LENGTH = 4096;

export type GpuArch = z.infer<typeof gpuArchSchema>;
export type EnginePrecision = z.infer<typeof enginePrecisionSchema>;
export type EngineTarget = z.infer<typeof engineTargetSchema>;
export type EngineBuildSource = z.infer<typeof engineBuildSourceSchema>;
export type EngineCalibrationCache = z.infer<typeof engineCalibrationCacheSchema>;
export type BuildEngineParameters = z.infer<typeof buildEngineParametersSchema>;
export type LatencyStatistics = z.infer<typeof latencyStatisticsSchema>;
export type TrtexecTiming = z.infer<typeof trtexecTimingSchema>;
export type BuiltEngine = z.infer<typeof builtEngineSchema>;
