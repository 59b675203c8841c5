import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DeviceJobsCoreModule } from '../device-jobs/device-jobs-core.module';
import { PipelineModule } from '../pipeline/pipeline.module';
import { EngineBuildProgressListener } from './engine-build-progress.listener';
import { EngineBuildQueue } from './engine-build-queue';
import { EngineBuildUrls } from './engine-build-urls';
import { EngineBuildsRepository } from './engine-builds.repository';
import { EngineBuildsService } from './engine-builds.service';
import { FailedUploadCollector } from './failed-upload-collector';

/** The engine-build queue, for the api, the worker and the queue dashboard. */
export const engineBuildQueue = BullModule.registerQueue({ name: EngineBuildQueue.Builds });

/**
 * What both roles need of engine builds: the queue, the `engine_builds` table, `EngineBuildsService` and the
 * progress listener. The listener runs wherever device job changes are seen: device updates arrive in the api
 * role, time-outs in the worker role; it writes them to the build's pipeline job and wakes the parked BullMQ job
 * through Redis, so a worker in another process concludes at once.
 */
@Module({
  imports: [engineBuildQueue, PipelineModule, DeviceJobsCoreModule],
  providers: [
    EngineBuildUrls,
    EngineBuildsRepository,
    EngineBuildsService,
    EngineBuildProgressListener,
    FailedUploadCollector,
  ],
  exports: [
    engineBuildQueue,
    PipelineModule,
    DeviceJobsCoreModule,
    EngineBuildUrls,
    EngineBuildsRepository,
    EngineBuildsService,
    FailedUploadCollector,
  ],
})
export class EnginesCoreModule {}
