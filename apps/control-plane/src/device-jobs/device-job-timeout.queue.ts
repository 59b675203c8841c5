import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { type Queue } from 'bullmq';
import {
  DeviceJobQueue,
  DeviceJobQueueJob,
  TIMEOUT_SWEEP_EVERY_MS,
  timeOutJobId,
  type TimeOutJobData,
} from './device-job-queue';

/** Grace after a deadline before the delayed job runs, for clock differences between api and database hosts. */
const DEADLINE_GRACE_MS = 250;

/** The time-out queue as the device-jobs domain uses it (BullMQ behind one adapter). */
@Injectable()
export class DeviceJobTimeoutQueue {
  constructor(@InjectQueue(DeviceJobQueue.Timeouts) private readonly queue: Queue<TimeOutJobData>) {}

  /** Has the worker time out each job in its `timeoutMs` unless it finished by then (one round trip for all). */
  async schedule(deadlines: ReadonlyArray<{ deviceJobId: string; timeoutMs: number }>): Promise<void> {
    if (deadlines.length === 0) return;
    await this.queue.addBulk(
      deadlines.map(({ deviceJobId, timeoutMs }) => ({
        name: DeviceJobQueueJob.TimeOut,
        data: { jobId: deviceJobId },
        opts: {
          jobId: timeOutJobId(deviceJobId),
          delay: timeoutMs + DEADLINE_GRACE_MS,
          attempts: 5,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: true,
          removeOnFail: 1000,
        },
      })),
    );
  }

  /** Registers the repeatable sweep (upserted by id: one schedule however many workers start). */
  async scheduleSweep(): Promise<void> {
    await this.queue.upsertJobScheduler(
      DeviceJobQueueJob.Sweep,
      { every: TIMEOUT_SWEEP_EVERY_MS },
      { name: DeviceJobQueueJob.Sweep, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }
}
