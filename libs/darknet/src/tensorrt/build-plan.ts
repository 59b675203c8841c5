import { createHash } from 'crypto';
import {
  GPU_ARCHITECTURES,
  TENSORRT_RELEASES,
  type GpuArchitecture,
  type ModelFormat,
  type Precision,
  type TensorRtRelease,
} from './tensorrt-capabilities';

/** Where and how an engine is to be built. */
export interface BuildTarget {
  /** TensorRT `major.minor` (a patch level such as `8.2.1` is accepted). Derived from `jetpack` when omitted. */
  readonly tensorrt?: string;
  /** JetPack release, e.g. `4.6.1`. */
  readonly jetpack?: string;
  /** CUDA arch of the device, e.g. `sm_53` (Jetson TX1). */
  readonly gpuArch: string;
  readonly precision: Precision;
  readonly workspaceMiB: number;
  /** INT8 calibration cache (required for `int8`); its sha256 enters the cache key. */
  readonly calibrationCache?: { readonly path: string; readonly sha256: string };
}

/** The model given to trtexec. `sha256` identifies its content (for Caffe: over prototxt and caffemodel). */
export type BuildModel =
  | { readonly format: 'onnx'; readonly path: string; readonly sha256: string }
  | {
      readonly format: 'caffe';
      readonly prototxt: string;
      readonly caffemodel: string;
      /** Output blob to mark (trtexec `--output`). */
      readonly outputBlob: string;
      readonly sha256: string;
    };

export interface BuildPlan {
  readonly release: TensorRtRelease;
  readonly architecture: GpuArchitecture;
  /** trtexec argv (program name first). */
  readonly argv: readonly string[];
  /** `argv` quoted for a POSIX shell. */
  readonly commandLine: string;
  /** sha256 over model sha256, GPU arch, TensorRT version, precision (and calibration cache sha256 for INT8). */
  readonly cacheKey: string;
  readonly enginePath: string;
  readonly notes: readonly string[];
}

export class BuildPlanError extends Error {
  override name = 'BuildPlanError';
}

const SHA256 = /^[0-9a-f]{64}$/;

function majorMinor(version: string): string {
  const match = /^(\d+)\.(\d+)(\.\d+)*$/.exec(version);
  if (!match) throw new BuildPlanError(`'${version}' is not a TensorRT version (expected e.g. 8.2 or 8.2.1)`);
  return `${match[1]}.${match[2]}`;
}

function compareVersions(left: string, right: string): number {
  const a = left.split('.').map(Number);
  const b = right.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function resolveRelease(target: BuildTarget): TensorRtRelease {
  const known = TENSORRT_RELEASES.map((release) => release.version).join(', ');
  const byJetpack = target.jetpack
    ? TENSORRT_RELEASES.find((release) => release.jetpack.includes(target.jetpack ?? ''))
    : undefined;
  if (target.jetpack && !byJetpack) {
    const jetpacks = TENSORRT_RELEASES.flatMap((release) => release.jetpack).join(', ');
    throw new BuildPlanError(`unknown JetPack ${target.jetpack} (known: ${jetpacks})`);
  }
  if (!target.tensorrt) {
    if (!byJetpack) throw new BuildPlanError('give a TensorRT version or a JetPack release');
    return byJetpack;
  }
  const version = majorMinor(target.tensorrt);
  const release = TENSORRT_RELEASES.find((candidate) => candidate.version === version);
  if (!release) throw new BuildPlanError(`unknown TensorRT ${target.tensorrt} (known: ${known})`);
  if (byJetpack && byJetpack !== release) {
    throw new BuildPlanError(
      `JetPack ${target.jetpack} ships TensorRT ${byJetpack.version}, not ${target.tensorrt}`,
    );
  }
  return release;
}

function resolveArchitecture(target: BuildTarget, release: TensorRtRelease): GpuArchitecture {
  const architecture = GPU_ARCHITECTURES.find((candidate) => candidate.arch === target.gpuArch);
  if (!architecture) {
    const known = GPU_ARCHITECTURES.map((candidate) => candidate.arch).join(', ');
    throw new BuildPlanError(`unknown GPU arch '${target.gpuArch}' (known: ${known})`);
  }
  const { firstJetpack, lastJetpack } = architecture;
  const supported = release.jetpack.some(
    (jetpack) =>
      compareVersions(jetpack, firstJetpack) >= 0 &&
      (!lastJetpack || compareVersions(jetpack, lastJetpack) <= 0),
  );
  if (!supported) {
    const range = `JetPack ${firstJetpack}${lastJetpack ? `..${lastJetpack}` : '+'}`;
    throw new BuildPlanError(
      `TensorRT ${release.version} ships with JetPack ${release.jetpack.join('/')}, which does not support ${architecture.devices.join(', ')} (${architecture.arch}: ${range})`,
    );
  }
  return architecture;
}

function checkPrecision(target: BuildTarget, architecture: GpuArchitecture): void {
  if (target.precision === 'int8') {
    if (!architecture.int8) {
      throw new BuildPlanError(
        `${architecture.arch} (${architecture.devices.join(', ')}) has no INT8 support in TensorRT; use fp16 or fp32`,
      );
    }
    if (!target.calibrationCache) throw new BuildPlanError('int8 needs a calibration cache');
  } else if (target.calibrationCache) {
    throw new BuildPlanError(`a calibration cache only applies to int8, not ${target.precision}`);
  }
  if (target.precision === 'fp16' && !architecture.fp16) {
    throw new BuildPlanError(`${architecture.arch} has no fast FP16 in TensorRT`);
  }
}

function checkModel(model: BuildModel, release: TensorRtRelease): void {
  if (!SHA256.test(model.sha256))
    throw new BuildPlanError(`model sha256 '${model.sha256}' is not 64 hex digits`);
  const format: ModelFormat = model.format;
  if (!release.formats.includes(format)) {
    throw new BuildPlanError(
      `TensorRT ${release.version} cannot read ${format} models (it accepts: ${release.formats.join(', ')}); export to ONNX instead`,
    );
  }
}

/** The content-addressed key of an engine: same inputs, same engine; anything else needs its own build. */
export function engineCacheKey(
  modelSha256: string,
  gpuArch: string,
  tensorrtVersion: string,
  precision: Precision,
  calibrationSha256?: string,
): string {
  const fields = [
    `model=${modelSha256}`,
    `arch=${gpuArch}`,
    `tensorrt=${tensorrtVersion}`,
    `precision=${precision}`,
  ];
  if (calibrationSha256) fields.push(`calibration=${calibrationSha256}`);
  return createHash('sha256').update(fields.join('\n')).digest('hex');
}

function shellQuote(argument: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, `'\\''`)}'`;
}

/**
 * Plans a `trtexec` build: validates the target against the capability tables, and returns the exact
 * command line, the engine cache key and the engine path (`<engineDir>/<cacheKey>.engine`).
 */
export function planEngineBuild(target: BuildTarget, model: BuildModel, engineDir = '.'): BuildPlan {
  const release = resolveRelease(target);
  const architecture = resolveArchitecture(target, release);
  checkPrecision(target, architecture);
  checkModel(model, release);
  if (!Number.isInteger(target.workspaceMiB) || target.workspaceMiB < 1) {
    throw new BuildPlanError(`workspace must be a positive whole number of MiB, got ${target.workspaceMiB}`);
  }
  const calibration = target.calibrationCache;
  if (calibration && !SHA256.test(calibration.sha256)) {
    throw new BuildPlanError(`calibration cache sha256 '${calibration.sha256}' is not 64 hex digits`);
  }
  const cacheKey = engineCacheKey(
    model.sha256,
    architecture.arch,
    release.version,
    target.precision,
    calibration?.sha256,
  );
  const enginePath = `${engineDir.replace(/\/+$/, '') || '.'}/${cacheKey}.engine`;

  const argv = ['trtexec'];
  if (model.format === 'onnx') {
    argv.push(`--onnx=${model.path}`);
    if (release.onnxNeedsExplicitBatchFlag) argv.push('--explicitBatch');
  } else {
    argv.push(`--deploy=${model.prototxt}`, `--model=${model.caffemodel}`, `--output=${model.outputBlob}`);
  }
  argv.push(`--saveEngine=${enginePath}`);
  argv.push(
    release.workspaceFlag === 'workspace'
      ? `--workspace=${target.workspaceMiB}`
      : `--memPoolSize=workspace:${target.workspaceMiB}`,
  );
  if (target.precision === 'fp16') argv.push('--fp16');
  if (target.precision === 'int8' && calibration) argv.push('--int8', `--calib=${calibration.path}`);

  const notes = [
    `The engine only runs on ${architecture.arch} (${architecture.devices.join(', ')}) with TensorRT ${release.version}; rebuild for any other GPU arch or TensorRT version.`,
  ];
  if (!release.nativeLeakyRelu && model.format === 'caffe') {
    notes.push(
      `TensorRT ${release.version} has no native leaky ReLU: the Caffe model must build it from ReLU + Scale + Eltwise.`,
    );
  }
  return {
    release,
    architecture,
    argv,
    commandLine: argv.map(shellQuote).join(' '),
    cacheKey,
    enginePath,
    notes,
  };
}
