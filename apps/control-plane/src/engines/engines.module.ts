import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ArtifactUrls } from '../device-jobs/artifact-urls';
import { DeviceJobsModule } from '../device-jobs/device-jobs.module';
import { PipelineModule } from '../pipeline/pipeline.module';
import { EngineBuildProcessor } from './engine-build.processor';
import { EngineBuildProgressListener } from './engine-build-progress.listener';
import { EngineBuildQueue } from './engine-build-queue';
import { EngineBuildResumer } from './engine-build.resumer';
import { EngineBuildUrls } from './engine-build-urls';
import { EngineBuildsRepository } from './engine-builds.repository';
import { EngineBuildsService } from './engine-builds.service';
import { EngineUploadController } from './engine-upload.controller';
import { EngineUploadService } from './engine-upload.service';
import { EnginesController } from './engines.controller';

/** The engine-build queue, for the api and the queue dashboard. */
export const engineBuildQueue = BullModule.registerQueue({ name: EngineBuildQueue.Builds });

/**
 * TensorRT engine builds on builder devices (api role, beside the device jobs it sends): the REST API, the
 * builders' upload, the `engine-build` processor and its progress listener. Exports `EngineBuildsService`
 * (`findEngine` for rollouts).
 */
@Module({
  imports: [engineBuildQueue, PipelineModule, DeviceJobsModule],
  controllers: [EnginesController, EngineUploadController],
  providers: [
    ArtifactUrls,
    EngineBuildUrls,
    EngineBuildsRepository,
    EngineBuildsService,
    EngineUploadService,
    EngineBuildProcessor,
    EngineBuildProgressListener,
    EngineBuildResumer,
  ],
  exports: [engineBuildQueue, EngineBuildsService],
})
export class EnginesModule {}
