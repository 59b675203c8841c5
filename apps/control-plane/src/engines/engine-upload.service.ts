import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
  PayloadTooLargeException,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { Request } from 'express';
import { ArtifactRequesterResolver } from '../artifacts/artifact-requester.resolver';
import {
  ARTIFACT_STORE,
  type ArtifactStore,
  ArtifactTooLargeError,
  SHA256_PATTERN,
} from '../artifacts/artifact-store';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { isTerminalJobStatus } from '../device-jobs/device-job';
import { DeviceJobsService } from '../device-jobs/device-jobs.service';
import { type EngineUploadResultDto } from './engine.dto';
import { calibrationSha256Of } from './engine-build-plan';
import { EngineBuildsRepository } from './engine-builds.repository';
import { FailedUploadCollector } from './failed-upload-collector';

/** The header with which a builder states the sha256 of the engine it uploads. */
export const ENGINE_SHA256_HEADER = 'x-content-sha256';

/**
 * Receives the engine a builder built (`PUT /engine-builds/:cacheKey/engine`): only from the device whose
 * `build-engine` job for that key is running, authenticated with its own credentials; streamed into the
 * artifact store with a size limit, and kept only when its sha256 is the one the builder states.
 */
@Injectable()
export class EngineUploadService {
  constructor(
    private readonly requesters: ArtifactRequesterResolver,
    private readonly builds: EngineBuildsRepository,
    private readonly deviceJobs: DeviceJobsService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly uploads: FailedUploadCollector,
  ) {}

  /**
   * The builder's download of an int8 build's calibration cache (`GET /engine-builds/:cacheKey/calibration-cache`),
   * with the same authorisation as the upload: only the device whose build-engine job for the key is running.
   */
  async calibrationCache(
    cacheKey: string,
    request: Request,
  ): Promise<{ sha256: string; sizeBytes: number; stream: Readable }> {
    const { build } = await this.runningBuild(
      cacheKey,
      request,
      'calibration caches are downloaded by the builder device (Basic device id and secret)',
    );
    const sha256 = build.target.precision === 'int8' ? calibrationSha256Of(build.plan) : undefined;
    if (sha256 === undefined) {
      throw new NotFoundException(
        `engine build ${cacheKey} is ${build.target.precision}: it has no calibration cache`,
      );
    }
    const stored = await this.store.stat(sha256);
    if (stored === undefined) throw new NotFoundException(`the calibration cache ${sha256} is not stored`);
    return { sha256, sizeBytes: stored.sizeBytes, stream: await this.store.openRead(sha256) };
  }

  /** The build whose build-engine job the requesting device runs; 401/403/404 otherwise. */
  private async runningBuild(cacheKey: string, request: Request, notADevice: string) {
    const requester = await this.requesters.resolve(request);
    if (requester.kind !== 'device') throw new ForbiddenException(notADevice);
    const deviceId = requester.deviceId;
    const build = await this.builds.find(cacheKey);
    if (!build) throw new NotFoundException(`no engine build with cache key ${cacheKey}`);
    const deviceJob =
      build.status === 'building' && build.deviceJobId !== null && build.builderDeviceId === deviceId
        ? await this.deviceJobs.get(build.deviceJobId).catch((error: unknown) => {
            if (error instanceof NotFoundException) return undefined;
            throw error;
          })
        : undefined;
    if (!deviceJob || deviceJob.deviceId !== deviceId || isTerminalJobStatus(deviceJob.status)) {
      throw new ForbiddenException(
        `device ${deviceId} has no running build-engine job for engine ${cacheKey}`,
      );
    }
    return { build, deviceJob };
  }

  async receive(cacheKey: string, request: Request): Promise<EngineUploadResultDto> {
    const { deviceJob } = await this.runningBuild(
      cacheKey,
      request,
      'engines are uploaded by their builder device (Basic device id and secret)',
    );
    const claimed = request.get(ENGINE_SHA256_HEADER) ?? '';
    if (!SHA256_PATTERN.test(claimed)) {
      throw new BadRequestException(
        `${ENGINE_SHA256_HEADER}: give the engine's sha256 (64 lower-case hex digits), got "${claimed.slice(0, 80)}"`,
      );
    }
    const maxBytes = this.config.engineBuilds.uploadMaxBytes;
    const declared = Number(request.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      throw new PayloadTooLargeException(
        `the engine (${declared} bytes) is larger than the limit of ${maxBytes} bytes`,
      );
    }
    const stored = await this.store.put(request, { maxBytes }).catch((error: unknown) => {
      throw error instanceof ArtifactTooLargeError
        ? new PayloadTooLargeException(`the engine is larger than the limit of ${maxBytes} bytes`)
        : error;
    });
    if (stored.sha256 !== claimed) {
      if (stored.created) await this.store.delete(stored.sha256);
      throw new UnprocessableEntityException(
        `${ENGINE_SHA256_HEADER} says ${claimed}, but the ${stored.sizeBytes} bytes received have sha256 ${stored.sha256}`,
      );
    }
    if (!(await this.builds.recordUpload(cacheKey, deviceJob.jobId, stored))) {
      if (stored.created) await this.uploads.collectArtifact(stored.sha256);
      throw new ConflictException(`the build of engine ${cacheKey} moved on while the engine was uploaded`);
    }
    return { sha256: stored.sha256, sizeBytes: stored.sizeBytes };
  }
}
