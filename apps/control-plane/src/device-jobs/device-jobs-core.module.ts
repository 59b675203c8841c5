import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ArtifactUrls } from './artifact-urls';
import { DesiredStatePublisher } from './desired-state.publisher';
import { DeviceJobChanges } from './device-job-changes';
import { DeviceJobQueue } from './device-job-queue';
import { DeviceJobTermination } from './device-job-termination';
import { DeviceJobTimeoutQueue } from './device-job-timeout.queue';
import { DeviceJobsRepository } from './device-jobs.repository';
import { DeviceJobsService } from './device-jobs.service';
import { JobNotifyNextPublisher } from './job-notify-next.publisher';
import { ProtocolMessageSender } from './protocol-message.sender';

const timeoutQueue = BullModule.registerQueue({ name: DeviceJobQueue.Timeouts });

/**
 * What both roles need of device jobs: the tables, `DeviceJobsService` (desired states, queueing and cancelling
 * jobs; the worker's engine-build processor sends `build-engine` jobs with it), `jobs/notify-next` and `desired`
 * publishing, ending jobs (cancel, time-out), the change notifications and the time-out queue. One instance per
 * process (`all` runs api and worker together).
 */
@Module({
  imports: [timeoutQueue],
  providers: [
    DeviceJobsRepository,
    DeviceJobChanges,
    ProtocolMessageSender,
    JobNotifyNextPublisher,
    DeviceJobTermination,
    DeviceJobTimeoutQueue,
    ArtifactUrls,
    DesiredStatePublisher,
    DeviceJobsService,
  ],
  exports: [
    timeoutQueue,
    DeviceJobsRepository,
    DeviceJobChanges,
    ProtocolMessageSender,
    JobNotifyNextPublisher,
    DeviceJobTermination,
    DeviceJobTimeoutQueue,
    ArtifactUrls,
    DesiredStatePublisher,
    DeviceJobsService,
  ],
})
export class DeviceJobsCoreModule {}
