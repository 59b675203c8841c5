import { Module } from '@nestjs/common';
import { DeviceJobUpdates } from './device-job-updates';
import { DeviceJobsController } from './device-jobs.controller';
import { DeviceJobsCoreModule } from './device-jobs-core.module';
import { JobUpdateListener } from './job-update.listener';
import { RetainedJobTopicsResync } from './retained-job-topics.resync';

/**
 * Desired state and device jobs (api role): the REST API, the device update listener and the republication of
 * retained topics at start. Other api-role modules import it for `DeviceJobsService` and `DeviceJobChanges`
 * (from the core module, which worker-role modules import directly).
 */
@Module({
  imports: [DeviceJobsCoreModule],
  controllers: [DeviceJobsController],
  providers: [DeviceJobUpdates, JobUpdateListener, RetainedJobTopicsResync],
  exports: [DeviceJobsCoreModule],
})
export class DeviceJobsModule {}
