import { Processor } from '@nestjs/bullmq';
import { Inject, Logger, NotFoundException } from '@nestjs/common';
import { type BuiltEngine } from '@emofleet/protocol';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { ARTIFACT_STORE, type ArtifactStore } from '../artifacts/artifact-store';
import { ManifestSigner } from '../artifacts/manifest-signer';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { type EngineBuildRow } from '../database/schema/engine-builds';
import { type DeviceJob, DeviceJobStatus, isTerminalJobStatus } from '../device-jobs/device-job';
import { DeviceJobsService } from '../device-jobs/device-jobs.service';
import { ModelsRepository } from '../models/models.repository';
import { PipelineJobsRepository } from '../pipeline/pipeline-jobs.repository';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { chooseBuilder, describeClass } from './device-class';
import { buildOrder, calibrationSha256Of } from './engine-build-plan';
import {
  BUILD_ENGINE_OPERATION,
  engineBuildJobId,
  type EngineBuildJobData,
  EngineBuildQueue,
} from './engine-build-queue';
import { EngineBuildUrls } from './engine-build-urls';
import { EngineBuildsRepository } from './engine-builds.repository';
import { FailedUploadCollector } from './failed-upload-collector';

/** One attempt failed; `buildLog` is the builder's output tail when it ran. Retried with backoff. */
class BuildAttemptFailure extends Error {
  constructor(
    message: string,
    readonly buildLog: string | null = null,
  ) {
    super(message);
  }
}

/** What a build stores as its result (`GET /jobs/:id`). */
export interface EngineBuildResult {
  cacheKey: string;
  engine: { sha256: string; sizeBytes: number };
  builderDeviceId: string | null;
  tensorrtVersion: string | null;
  buildMs: number | null;
  timing: EngineBuildRow['timing'];
}

type Pass = { kind: 'waiting' } | { kind: 'done'; result: EngineBuildResult };

/** Extra time past a device job's time-out before this processor cancels it itself. */
const TIMEOUT_GRACE_MS = 30_000;

const FAILURE_WORDS: Partial<Record<DeviceJobStatus, string>> = {
  [DeviceJobStatus.Failed]: 'failed',
  [DeviceJobStatus.Rejected]: 'refused the job',
  [DeviceJobStatus.TimedOut]: 'timed out',
  [DeviceJobStatus.Canceled]: 'had the job canceled',
};

/**
 * `engine-build`: builds the engine of one cache key on a builder device (docs/engines.md). Each pass reads the
 * database and moves the build one step: send a `build-engine` device job to an online builder of exactly the
 * class, then wait for that job to end (the BullMQ job is parked as delayed and re-entered every poll interval,
 * or at once when a process sees the job end), then store the uploaded engine with trtexec's timing, or
 * fail the attempt with the builder's log. A pass that re-enters after a restart finds the device job it sent
 * (by the stored id, or on the builder by cache key) instead of sending another. Attempts (a new builder
 * choice each) are retried with exponential backoff; no builder online counts as a failed attempt.
 *
 * Runs in the worker role like the other processors; device jobs are sent through `DeviceJobsService` (the
 * device-jobs core module, in both roles), and their changes reach it through the progress listener (which
 * wakes the parked job through Redis, from whichever process saw the change) or its polling.
 */
@Processor(EngineBuildQueue.Builds, { concurrency: 8, maxStalledCount: 10 })
export class EngineBuildProcessor extends LoggedWorkerHost {
  private readonly logger = new Logger(EngineBuildProcessor.name);

  constructor(
    private readonly builds: EngineBuildsRepository,
    private readonly models: ModelsRepository,
    private readonly pipelineJobs: PipelineJobsRepository,
    private readonly deviceJobs: DeviceJobsService,
    private readonly urls: EngineBuildUrls,
    private readonly signer: ManifestSigner,
    private readonly uploads: FailedUploadCollector,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  async process(job: Job<EngineBuildJobData>, token?: string): Promise<EngineBuildResult> {
    const { cacheKey } = job.data;
    const id = job.id ?? engineBuildJobId(cacheKey);
    const attempt = job.attemptsMade + 1;
    try {
      const pass = await this.pass(cacheKey, id, attempt);
      if (pass.kind === 'done') {
        await this.pipelineJobs.markCompleted(id, pass.result);
        return pass.result;
      }
      await job.moveToDelayed(Date.now() + this.config.engineBuilds.pollMs, token);
      throw new DelayedError();
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      const final = error instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? 1);
      const buildLog = error instanceof BuildAttemptFailure ? error.buildLog : null;
      await this.collectUpload(cacheKey, id);
      await this.builds.recordFailure(cacheKey, { reason, buildLog, final });
      if (buildLog !== null) await this.pipelineJobs.appendLog(id, `builder log (tail):\n${buildLog}`);
      await this.pipelineJobs.appendLog(
        id,
        `attempt ${attempt} failed: ${reason}${final ? '' : '; retrying with backoff'}`,
      );
      await this.pipelineJobs.markFailed(id, reason, final);
      if (final) this.logger.warn(`engine build ${cacheKey} failed: ${reason}`);
      throw error;
    }
  }

  /** Deletes what the failed attempt uploaded (unless referenced elsewhere); never masks the attempt's error. */
  private async collectUpload(cacheKey: string, id: string): Promise<void> {
    try {
      const deleted = await this.uploads.collectBuild(cacheKey);
      if (deleted !== undefined)
        await this.pipelineJobs.appendLog(id, `deleted engine ${deleted}, uploaded by the failed attempt`);
    } catch (error) {
      this.logger.warn(`collecting the upload of failed build ${cacheKey}: ${String(error)}`);
    }
  }

  /** One step of the build; throws to fail the attempt. */
  private async pass(cacheKey: string, id: string, attempt: number): Promise<Pass> {
    const build = await this.builds.find(cacheKey);
    if (!build) throw new UnrecoverableError(`no engine build with cache key ${cacheKey}`);
    if (build.status === 'succeeded') return { kind: 'done', result: resultOf(build) };
    await this.pipelineJobs.markActive(id, attempt);
    if (build.deviceJobId !== null) {
      const deviceJob = await this.deviceJobs.get(build.deviceJobId).catch((error: unknown) => {
        if (error instanceof NotFoundException) return undefined;
        throw error;
      });
      if (deviceJob === undefined) {
        throw new BuildAttemptFailure(`the build-engine job ${build.deviceJobId} no longer exists`);
      }
      return this.follow(build, deviceJob, id);
    }
    if (build.status === 'building' && build.builderDeviceId !== null) {
      const sent = await this.jobSentBefore(build, build.builderDeviceId);
      if (sent !== undefined) {
        await this.builds.setDeviceJob(cacheKey, sent.jobId);
        await this.pipelineJobs.appendLog(id, `found build-engine job ${sent.jobId} on ${sent.deviceId}`);
        return this.follow({ ...build, deviceJobId: sent.jobId }, sent, id);
      }
    }
    return this.startAttempt(build, id, attempt);
  }

  /** Waits for a pending device job (cancelling it when it overstays), or concludes a finished one. */
  private async follow(build: EngineBuildRow, deviceJob: DeviceJob, id: string): Promise<Pass> {
    if (isTerminalJobStatus(deviceJob.status)) return this.conclude(build, deviceJob, id);
    const deadline = deviceJob.timeoutAt?.getTime();
    if (deadline !== undefined && Date.now() > deadline + TIMEOUT_GRACE_MS) {
      const reason = `builder ${deviceJob.deviceId} did not finish within ${this.config.engineBuilds.timeoutMs} ms`;
      await this.deviceJobs
        .cancel(deviceJob.jobId, reason, `engine-build:${build.cacheKey}`)
        .catch((error: unknown) => this.logger.debug(`cancel of ${deviceJob.jobId}: ${String(error)}`));
      throw new BuildAttemptFailure(reason);
    }
    return { kind: 'waiting' };
  }

  /** The build-engine job for this key already sent to `deviceId` for the current attempt (after a crash). */
  private async jobSentBefore(build: EngineBuildRow, deviceId: string): Promise<DeviceJob | undefined> {
    const page = await this.deviceJobs.listForDevice(deviceId, { limit: 50 }).catch((error: unknown) => {
      if (error instanceof NotFoundException) return undefined;
      throw error;
    });
    return page?.items.find(
      (job) =>
        job.operation === BUILD_ENGINE_OPERATION &&
        job.parameters.cacheKey === build.cacheKey &&
        job.queuedAt.getTime() >= build.updatedAt.getTime(),
    );
  }

  private async startAttempt(build: EngineBuildRow, id: string, attempt: number): Promise<Pass> {
    const version = await this.models.findVersionById(build.versionId);
    if (!version) throw new UnrecoverableError(`model version ${build.versionId} no longer exists`);
    const source = (await this.models.filesOf(build.versionId)).find(
      (file) => file.role === 'onnx' && file.sha256 === build.inputSha256,
    );
    if (!source) {
      throw new UnrecoverableError(
        `model version ${version.modelName}@${version.version} no longer has the ONNX export ${build.inputSha256}`,
      );
    }
    const calibration = await this.calibrationCacheOf(build, `${version.modelName}@${version.version}`);
    const builderId = await this.pickBuilder(build);
    // An upload of an attempt that failed before a crash: the new attempt starts without an engine.
    await this.collectUpload(build.cacheKey, id);
    if (!(await this.builds.assignBuilder(build.cacheKey, builderId))) return { kind: 'waiting' };
    const order = buildOrder(build, source, calibration);
    const parameters = {
      ...order,
      source: { ...order.source, url: await this.urls.source(source.sha256) },
      ...(order.calibrationCache === undefined
        ? {}
        : {
            calibrationCache: {
              ...order.calibrationCache,
              url: await this.urls.calibrationCache(build.cacheKey, source.sha256),
            },
          }),
      uploadUrl: await this.urls.upload(build.cacheKey, source.sha256),
      signature: this.signer.signEngineBuild(order),
    };
    const deviceJob = await this.deviceJobs.enqueueJob({
      deviceId: builderId,
      operation: BUILD_ENGINE_OPERATION,
      parameters,
      timeoutMs: this.config.engineBuilds.timeoutMs,
      actor: `engine-build:${build.cacheKey}`,
    });
    await this.builds.setDeviceJob(build.cacheKey, deviceJob.jobId);
    await this.pipelineJobs.appendLog(
      id,
      `attempt ${attempt}: sent build-engine job ${deviceJob.jobId} to builder ${builderId} ` +
        `(${describeClass(build.target)}): trtexec ${order.trtexecArgs.join(' ')}`,
    );
    await this.pipelineJobs.setProgress(id, 5);
    return { kind: 'waiting' };
  }

  /** The calibration cache an int8 build was planned with (its sha256 is in `--calib`); undefined otherwise. */
  private async calibrationCacheOf(
    build: EngineBuildRow,
    versionName: string,
  ): Promise<{ sha256: string; sizeBytes: number } | undefined> {
    if (build.target.precision !== 'int8') return undefined;
    const sha256 = calibrationSha256Of(build.plan);
    const file = (await this.models.filesOf(build.versionId)).find(
      (candidate) => candidate.role === 'tensorrt-calibration-cache' && candidate.sha256 === sha256,
    );
    if (sha256 === undefined || file === undefined) {
      throw new UnrecoverableError(
        `model version ${versionName} no longer has the calibration cache ${sha256 ?? '(none in the plan)'} ` +
          'this int8 build was planned with',
      );
    }
    return { sha256: file.sha256, sizeBytes: file.sizeBytes };
  }

  /** An online builder of exactly the class; the error says which builders of the class exist but are offline. */
  private async pickBuilder(build: EngineBuildRow): Promise<string> {
    const online = await this.builds.builderCandidates(build.target.gpuArch, true);
    const chosen = chooseBuilder(online, build.target, build.builderDeviceId);
    if (chosen !== undefined) return chosen;
    const offline = (await this.builds.builderCandidates(build.target.gpuArch, false))
      .filter((candidate) => chooseBuilder([candidate], build.target, null) !== undefined)
      .map((candidate) => candidate.id);
    throw new BuildAttemptFailure(
      `no online engine builder of class ${describeClass(build.target)} (` +
        (offline.length === 0
          ? 'no registered device announces a builder of that class'
          : `offline: ${offline.sort().join(', ')}`) +
        ')',
    );
  }

  /** Stores the engine of a SUCCEEDED job, or fails the attempt with the builder's reason and log. */
  private async conclude(build: EngineBuildRow, deviceJob: DeviceJob, id: string): Promise<Pass> {
    const details = deviceJob.statusDetails;
    const buildLog = details.logTail ?? null;
    const builder = deviceJob.deviceId;
    if (deviceJob.status !== DeviceJobStatus.Succeeded) {
      const what = FAILURE_WORDS[deviceJob.status] ?? deviceJob.status;
      throw new BuildAttemptFailure(
        `builder ${builder} ${what}: ${details.reason ?? 'no reason given'}`,
        buildLog,
      );
    }
    const engine = details.engine;
    if (engine === undefined) {
      throw new BuildAttemptFailure(`builder ${builder} reported SUCCEEDED without an engine`, buildLog);
    }
    const stored = await this.store.stat(engine.sha256);
    if (build.engineSha256 !== engine.sha256 || stored?.sizeBytes !== engine.sizeBytes) {
      throw new BuildAttemptFailure(
        `builder ${builder} reported engine ${engine.sha256} (${engine.sizeBytes} bytes) but uploaded ` +
          (build.engineSha256 === null ? 'nothing' : `${build.engineSha256}`),
        buildLog,
      );
    }
    await this.builds.markSucceeded(build.cacheKey, {
      engineSha256: engine.sha256,
      engineSizeBytes: engine.sizeBytes,
      timing: engine.timing,
      tensorrtVersion: engine.tensorrtVersion ?? null,
      buildMs: engine.buildMs,
      buildLog,
    });
    await this.pipelineJobs.appendLog(
      id,
      `builder ${builder} built engine ${engine.sha256} (${engine.sizeBytes} bytes) in ${engine.buildMs} ms` +
        `${engine.tensorrtVersion ? ` with TensorRT ${engine.tensorrtVersion}` : ''}; ${describeTiming(engine)}`,
    );
    const done = await this.builds.find(build.cacheKey);
    if (!done) throw new UnrecoverableError(`engine build ${build.cacheKey} vanished while it was stored`);
    return { kind: 'done', result: resultOf(done) };
  }
}

function describeTiming(engine: BuiltEngine): string {
  const { throughputQps, latencyMs, gpuComputeMs } = engine.timing;
  const parts = [
    throughputQps === undefined ? undefined : `${throughputQps} qps`,
    latencyMs === undefined
      ? undefined
      : `latency mean ${latencyMs.mean} ms${latencyMs.p99 === undefined ? '' : `, p99 ${latencyMs.p99} ms`}`,
    gpuComputeMs === undefined ? undefined : `GPU compute mean ${gpuComputeMs.mean} ms`,
  ].filter((part): part is string => part !== undefined);
  return parts.length === 0 ? 'trtexec printed no performance summary' : `trtexec: ${parts.join(', ')}`;
}

/** The result of a succeeded build. */
function resultOf(build: EngineBuildRow): EngineBuildResult {
  if (build.engineSha256 === null || build.engineSizeBytes === null) {
    throw new Error(`engine build ${build.cacheKey} is ${build.status} without a stored engine`);
  }
  return {
    cacheKey: build.cacheKey,
    engine: { sha256: build.engineSha256, sizeBytes: build.engineSizeBytes },
    builderDeviceId: build.builderDeviceId,
    tensorrtVersion: build.tensorrtVersion,
    buildMs: build.buildMs,
    timing: build.timing,
  };
}
