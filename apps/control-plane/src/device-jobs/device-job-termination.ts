import { Injectable } from '@nestjs/common';
import { type DeviceJob, DeviceJobStatus, toDeviceJob } from './device-job';
import { DeviceJobChanges } from './device-job-changes';
import { transitionProblem } from './device-job-transitions';
import { DeviceJobsRepository } from './device-jobs.repository';
import { JobNotifyNextPublisher } from './job-notify-next.publisher';

export type CancelOutcome =
  | { outcome: 'canceled'; job: DeviceJob }
  | { outcome: 'unknown-job' }
  | { outcome: 'refused'; job: DeviceJob; problem: string };

/**
 * The control plane ending jobs: cancellation (operators, rollouts) and time-outs (the worker). The device learns
 * it from its next update being rejected (`terminal-state`) and from `jobs/notify-next` moving on.
 */
@Injectable()
export class DeviceJobTermination {
  constructor(
    private readonly repository: DeviceJobsRepository,
    private readonly notifyNext: JobNotifyNextPublisher,
    private readonly changes: DeviceJobChanges,
  ) {}

  async cancel(jobId: string, reason: string, actor: string): Promise<CancelOutcome> {
    const result = await this.repository.withLockedJob(jobId, async (row, write) => {
      if (!row) return { outcome: 'unknown-job' as const };
      const previousStatus = row.status as DeviceJobStatus;
      const problem = transitionProblem(previousStatus, DeviceJobStatus.Canceled, 'control-plane');
      if (problem !== undefined) return { outcome: 'refused' as const, job: toDeviceJob(row), problem };
      const ended = await write({
        status: DeviceJobStatus.Canceled,
        statusDetails: { reason: `canceled by ${actor}: ${reason}`.slice(0, 1024) },
        source: actor,
      });
      return { outcome: 'canceled' as const, job: toDeviceJob(ended), previousStatus };
    });
    if (result.outcome !== 'canceled') return result;
    await this.afterEnding(result.job, result.previousStatus);
    return { outcome: 'canceled', job: result.job };
  }

  /** Times the job out if it is unfinished and its deadline has passed (by the database's clock). */
  async timeOutIfOverdue(jobId: string): Promise<DeviceJob | undefined> {
    const result = await this.repository.withLockedJob(jobId, async (row, write, now) => {
      if (!row || row.timeoutAt === null || row.timeoutAt.getTime() > now.getTime()) return undefined;
      const previousStatus = row.status as DeviceJobStatus;
      if (transitionProblem(previousStatus, DeviceJobStatus.TimedOut, 'control-plane') !== undefined)
        return undefined;
      const ended = await write({
        status: DeviceJobStatus.TimedOut,
        statusDetails: {
          ...(row.statusDetails.step === undefined ? {} : { step: row.statusDetails.step }),
          reason: `not finished within its time-out (${row.timeoutAt.toISOString()}); last status ${previousStatus}`,
        },
        source: 'timeout',
      });
      return { job: toDeviceJob(ended), previousStatus };
    });
    if (result === undefined) return undefined;
    await this.afterEnding(result.job, result.previousStatus);
    return result.job;
  }

  private async afterEnding(job: DeviceJob, previousStatus: DeviceJobStatus): Promise<void> {
    this.changes.announce({ job, previousStatus });
    await this.notifyNext.publish(job.deviceId);
  }
}
