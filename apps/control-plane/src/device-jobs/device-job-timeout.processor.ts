import { Processor } from '@nestjs/bullmq';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import {
  DeviceJobQueue,
  DeviceJobQueueJob,
  TIMEOUT_SWEEP_BATCH,
  type TimeOutJobData,
} from './device-job-queue';
import { DeviceJobTermination } from './device-job-termination';
import { DeviceJobTimeoutQueue } from './device-job-timeout.queue';
import { DeviceJobsRepository } from './device-jobs.repository';

/**
 * Ends device jobs that are not finished by their deadline as TIMED_OUT (worker role): the delayed job of each
 * deadline, and a repeatable sweep for deadlines whose delayed job was lost. Both check the deadline and status
 * under a row lock, so replicas and repeats end a job once.
 */
@Processor(DeviceJobQueue.Timeouts)
export class DeviceJobTimeoutProcessor extends LoggedWorkerHost {
  private readonly logger = new Logger(DeviceJobTimeoutProcessor.name);

  constructor(
    private readonly termination: DeviceJobTermination,
    private readonly repository: DeviceJobsRepository,
  ) {
    super();
  }

  async process(job: Job<TimeOutJobData>): Promise<number> {
    switch (job.name as DeviceJobQueueJob) {
      case DeviceJobQueueJob.TimeOut: {
        const jobId = job.data.jobId;
        if (typeof jobId !== 'string')
          throw new UnrecoverableError(`time-out job ${job.id} names no device job`);
        return (await this.timeOut(jobId)) ? 1 : 0;
      }
      case DeviceJobQueueJob.Sweep: {
        let ended = 0;
        for (const jobId of await this.repository.overdueJobIds(TIMEOUT_SWEEP_BATCH)) {
          if (await this.timeOut(jobId)) ended += 1;
        }
        return ended;
      }
      default:
        throw new UnrecoverableError(`unknown job ${job.name} in ${DeviceJobQueue.Timeouts}`);
    }
  }

  private async timeOut(jobId: string): Promise<boolean> {
    const ended = await this.termination.timeOutIfOverdue(jobId);
    if (ended) this.logger.log(`job ${jobId} of ${ended.deviceId} timed out`);
    return ended !== undefined;
  }
}

/** Registers the sweep when a worker starts. */
@Injectable()
export class DeviceJobTimeoutSweepScheduler implements OnApplicationBootstrap {
  constructor(private readonly queue: DeviceJobTimeoutQueue) {}

  onApplicationBootstrap(): Promise<void> {
    return this.queue.scheduleSweep();
  }
}
