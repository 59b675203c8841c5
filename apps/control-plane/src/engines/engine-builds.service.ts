import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { type EnginePrecision, type ModelManifest, type TrtexecTiming } from '@emofleet/protocol';
import { type Queue } from 'bullmq';
import { ARTIFACT_STORE, type ArtifactStore } from '../artifacts/artifact-store';
import { ManifestSigner } from '../artifacts/manifest-signer';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { type ModelVersionFileRow, type ModelVersionRow } from '../database/schema';
import { type EngineBuildRow, type EngineBuildTarget } from '../database/schema/engine-builds';
import { ModelsRepository } from '../models/models.repository';
import { PipelineJobsRepository } from '../pipeline/pipeline-jobs.repository';
import { tensorrtMajorMinor, type DeviceClass } from './device-class';
import { type EngineBuildDto, type EngineRequestResultDto } from './engine.dto';
import {
  type CalibrationCacheFile,
  calibrationCacheTensorRt,
  type EngineRequest,
  int8Refusal,
  planBuild,
} from './engine-build-plan';
import {
  EngineBuildJobName,
  engineBuildJobId,
  type EngineBuildJobData,
  EngineBuildQueue,
} from './engine-build-queue';
import { EngineBuildsRepository } from './engine-builds.repository';

/** An engine ready for the devices of one class: the stored artifact and its signed manifest. */
export interface ClassEngine {
  cacheKey: string;
  target: EngineBuildTarget;
  sha256: string;
  sizeBytes: number;
  timing: TrtexecTiming | null;
  /** The engine as a `tensorrt-engine` deliverable of the model version, signed like the darknet bundle. */
  manifest: ModelManifest & { signature: string };
}

/**
 * Engine builds per target class (docs/engines.md): a request plans the build with libs/darknet, answers a
 * built key from the cache (nothing is built), and otherwise records the build in `engine_builds` and
 * `pipeline_jobs` and queues one BullMQ job per cache key; `EngineBuildProcessor` runs it on a builder device.
 */
@Injectable()
export class EngineBuildsService {
  constructor(
    private readonly builds: EngineBuildsRepository,
    private readonly models: ModelsRepository,
    private readonly pipelineJobs: PipelineJobsRepository,
    private readonly signer: ManifestSigner,
    @InjectQueue(EngineBuildQueue.Builds) private readonly queue: Queue<EngineBuildJobData>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {}

  /**
   * Requests the engine of `request`'s class for a ready model version. A key that is built answers at once
   * with `cached: true`; a key that is queued or building answers with its build; a failed key is tried again.
   * 404 unknown version; 422 version not ready, no ONNX export, or a target the toolchain refuses; for int8, 422
   * for a GPU arch without INT8, a version without a calibration cache (run the quantize job first), or a cache
   * written for another TensorRT release.
   */
  async request(versionId: string, request: EngineRequest, actor: string): Promise<EngineRequestResultDto> {
    const { version, onnx, files } = await this.readyVersion(versionId);
    let calibration: CalibrationCacheFile | undefined;
    if (request.precision === 'int8') {
      const refusal = int8Refusal(request.gpuArch);
      if (refusal !== undefined) throw new UnprocessableEntityException(refusal);
      calibration = files.find((file) => file.role === 'tensorrt-calibration-cache');
      if (calibration === undefined) {
        const name = `${version.modelName}@${version.version}`;
        throw new UnprocessableEntityException(
          `precision: int8 needs a TensorRT calibration cache and model version ${name} has none; run ` +
            `POST /models/${version.modelName}/versions/${version.version}/quantize first (it calibrates the ` +
            'version and stores its tensorrt-calibration-cache), then request the int8 engine again',
        );
      }
    }
    const planned = planBuild(request, onnx.sha256, calibration);
    if (calibration !== undefined) await this.checkCacheRelease(calibration.sha256, planned.target.tensorrt);
    let build = await this.builds.insertIfAbsent({
      cacheKey: planned.cacheKey,
      versionId,
      target: planned.target,
      plan: planned.plan,
      inputSha256: onnx.sha256,
      requestedBy: actor,
    });
    if (build.status === 'succeeded') return { ...toDto(build), cached: true };
    const jobId = engineBuildJobId(build.cacheKey);
    if (build.status === 'failed' && (await this.builds.requeueFailed(build.cacheKey, actor))) {
      await this.pipelineJobs.requeue(
        jobId,
        `requested again by ${actor} for ${version.modelName}@${version.version} after: ${build.failedReason ?? 'a failure'}`,
      );
      build = (await this.builds.find(build.cacheKey)) ?? build;
    }
    await this.pipelineJobs.insertIfAbsent({
      id: jobId,
      queue: EngineBuildQueue.Builds,
      versionId: build.versionId,
      input: { cacheKey: build.cacheKey, target: build.target },
    });
    await this.ensureQueued(build.cacheKey);
    return { ...toDto(build), cached: false };
  }

  /**
   * Makes sure BullMQ holds a waiting, delayed or active job for the build (a no-op when it does), replacing a
   * finished one that Redis still remembers: the database is the source of truth.
   */
  async ensureQueued(cacheKey: string): Promise<void> {
    const jobId = engineBuildJobId(cacheKey);
    const existing = await this.queue.getJob(jobId);
    if (existing && ((await existing.isFailed()) || (await existing.isCompleted()))) await existing.remove();
    const { attempts, backoffMs } = this.config.engineBuilds;
    await this.queue.add(
      EngineBuildJobName.Build,
      { cacheKey },
      {
        jobId,
        attempts,
        backoff: { type: 'exponential', delay: backoffMs },
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    );
  }

  /** The builds of every class from the version's ONNX export (engines other versions built from it included). */
  async listForVersion(versionId: string): Promise<EngineBuildDto[]> {
    const version = await this.models.findVersionById(versionId);
    if (!version) throw new NotFoundException(`no model version with id "${versionId}"`);
    const onnx = (await this.models.filesOf(versionId)).find((file) => file.role === 'onnx');
    if (!onnx) return [];
    return (await this.builds.ofInput(onnx.sha256)).map(toDto);
  }

  async get(cacheKey: string): Promise<EngineBuildDto> {
    const build = await this.builds.find(cacheKey);
    if (!build) throw new NotFoundException(`no engine build with cache key ${cacheKey}`);
    return toDto(build);
  }

  /**
   * The engine built for devices of `deviceClass` from the model version, or null when there is none yet. For
   * the rollout engine: `deviceClass` comes from a device's capabilities (`deviceClassOf`); `tensorrt` may be a
   * full version (its major.minor counts). Without `precision`, fp16 is preferred over fp32, and int8 engines
   * (whose accuracy is the quantize job's, not the model's) are only returned when `precision: 'int8'` asks.
   */
  async findEngine(
    modelVersionId: string,
    deviceClass: DeviceClass & { precision?: EnginePrecision },
  ): Promise<ClassEngine | null> {
    const version = await this.models.findVersionById(modelVersionId);
    const onnx = version && (await this.models.filesOf(modelVersionId)).find((file) => file.role === 'onnx');
    if (!version || !onnx) return null;
    const tensorrt = tensorrtMajorMinor(deviceClass.tensorrt);
    const matching = (await this.builds.ofInput(onnx.sha256)).filter(
      (build) =>
        build.status === 'succeeded' &&
        build.engineSha256 !== null &&
        build.target.gpuArch === deviceClass.gpuArch &&
        build.target.tensorrt === tensorrt &&
        (deviceClass.precision === undefined
          ? build.target.precision !== 'int8'
          : build.target.precision === deviceClass.precision) &&
        (build.target.jetpack === null ||
          !deviceClass.jetpack ||
          build.target.jetpack === deviceClass.jetpack),
    );
    const best = [...matching].sort(
      (a, b) =>
        Number(b.target.precision === 'fp16') - Number(a.target.precision === 'fp16') ||
        (b.finishedAt?.getTime() ?? 0) - (a.finishedAt?.getTime() ?? 0),
    )[0];
    if (!best?.engineSha256 || best.engineSizeBytes === null) return null;
    const manifest: ModelManifest = {
      modelId: version.modelName,
      version: String(version.version),
      format: 'tensorrt-engine',
      sha256: best.engineSha256,
      sizeBytes: best.engineSizeBytes,
    };
    return {
      cacheKey: best.cacheKey,
      target: best.target,
      sha256: best.engineSha256,
      sizeBytes: best.engineSizeBytes,
      timing: best.timing,
      manifest: { ...manifest, signature: this.signer.sign(manifest) },
    };
  }

  /**
   * A calibration cache only works with the TensorRT release its header names (docs/quantization.md); a build
   * with another one would silently ignore it. 422 when the header names another major.minor or none.
   */
  private async checkCacheRelease(sha256: string, tensorrt: string): Promise<void> {
    const header = await this.firstLine(sha256);
    const written = calibrationCacheTensorRt(header);
    if (written === tensorrt) return;
    throw new UnprocessableEntityException(
      written === undefined
        ? `precision: the calibration cache ${sha256} has no TensorRT header line (got "${header.slice(0, 80)}")`
        : `precision: the version's calibration cache was written for TensorRT ${written} (header ${header.trim()}), ` +
            `and TensorRT uses a cache only with the release that wrote it; this target builds with TensorRT ` +
            `${tensorrt}: request int8 for a TensorRT ${written} class, or build fp16`,
    );
  }

  /** The first line of a (small) stored text artifact. */
  private async firstLine(sha256: string): Promise<string> {
    const stored = await this.store.stat(sha256);
    if (stored === undefined) {
      throw new UnprocessableEntityException(`precision: the calibration cache ${sha256} is not stored`);
    }
    const stream = await this.store.openRead(sha256, { start: 0, end: Math.min(stored.sizeBytes, 256) - 1 });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? '';
  }

  private async readyVersion(
    versionId: string,
  ): Promise<{ version: ModelVersionRow; onnx: ModelVersionFileRow; files: ModelVersionFileRow[] }> {
    const version = await this.models.findVersionById(versionId);
    if (!version) throw new NotFoundException(`no model version with id "${versionId}"`);
    const name = `${version.modelName}@${version.version}`;
    if (version.status !== 'ready') {
      throw new UnprocessableEntityException(
        `model version ${name} is ${version.status}, not ready: engines are built from its verified ONNX export ` +
          '(upload → convert → benchmark → ready)',
      );
    }
    const files = await this.models.filesOf(versionId);
    const onnx = files.find((file) => file.role === 'onnx');
    if (!onnx)
      throw new UnprocessableEntityException(`model version ${name} has no ONNX export to build from`);
    return { version, onnx, files };
  }
}

export function toDto(build: EngineBuildRow): EngineBuildDto {
  return {
    cacheKey: build.cacheKey,
    jobId: engineBuildJobId(build.cacheKey),
    modelVersionId: build.versionId,
    status: build.status,
    target: build.target,
    plan: { commandLine: build.plan.commandLine, notes: build.plan.notes },
    inputSha256: build.inputSha256,
    builderDeviceId: build.builderDeviceId,
    deviceJobId: build.deviceJobId,
    engine:
      build.status === 'succeeded' && build.engineSha256 !== null && build.engineSizeBytes !== null
        ? {
            sha256: build.engineSha256,
            sizeBytes: build.engineSizeBytes,
            tensorrtVersion: build.tensorrtVersion,
            buildMs: build.buildMs,
          }
        : null,
    timing: build.timing ?? null,
    buildLog: build.buildLog,
    failedReason: build.failedReason,
    requestedBy: build.requestedBy,
    createdAt: build.createdAt.toISOString(),
    updatedAt: build.updatedAt.toISOString(),
    finishedAt: build.finishedAt?.toISOString() ?? null,
  };
}
