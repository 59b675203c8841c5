import { Module } from '@nestjs/common';
import { ArtifactUrls } from './artifact-urls';
import { DesiredStatePublisher } from './desired-state.publisher';
import { DeviceJobUpdates } from './device-job-updates';
import { DeviceJobsController } from './device-jobs.controller';
import { DeviceJobsCoreModule } from './device-jobs-core.module';
import { DeviceJobsService } from './device-jobs.service';
import { JobUpdateListener } from './job-update.listener';
import { RetainedJobTopicsResync } from './retained-job-topics.resync';

/**
 * Desired state and device jobs (api role): the REST API, the device update listener, desired-state publishing.
 * Other api-role modules import it for `DeviceJobsService` and `DeviceJobChanges` (from the core module).
 */
@Module({
  imports: [DeviceJobsCoreModule],
  controllers: [DeviceJobsController],
  providers: [
    ArtifactUrls,
    DesiredStatePublisher,
    DeviceJobUpdates,
    DeviceJobsService,
    JobUpdateListener,
    RetainedJobTopicsResync,
  ],
  exports: [DeviceJobsService, DeviceJobsCoreModule],
})
export class DeviceJobsModule {}
