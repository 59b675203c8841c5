import { Injectable } from '@nestjs/common';
import { type JobExecutionStatus, type JobUpdateMessage, type JobUpdateRejection } from '@emofleet/protocol';
import { DeviceJobStatus, isTerminalJobStatus, toDeviceJob } from './device-job';
import { DeviceJobChanges } from './device-job-changes';
import { transitionProblem } from './device-job-transitions';
import { DeviceJobsRepository } from './device-jobs.repository';
import { JobNotifyNextPublisher } from './job-notify-next.publisher';

/** What the control plane answers to one job update (the fields of `job-update-response`). */
export interface JobUpdateVerdict {
  accepted: boolean;
  status: JobExecutionStatus;
  versionNumber: number;
  rejection?: JobUpdateRejection;
}

/**
 * An update about a job that is not the device's (unknown, or another device's): there is no execution to
 * report, so the answer carries a terminal status (the agent stops working on it) and version 0.
 */
const UNKNOWN_JOB: JobUpdateVerdict = {
  accepted: false,
  status: DeviceJobStatus.Canceled,
  versionNumber: 0,
  rejection: 'unknown-job',
};

/**
 * Applies the devices' job updates with optimistic concurrency (docs/protocol.md "Jobs"): an update applies
 * only when its `expectedVersion` equals the job's `versionNumber`, which then grows by one; a redelivered
 * update therefore never applies twice. Each accepted update is stored with its history entry and announced.
 */
@Injectable()
export class DeviceJobUpdates {
  constructor(
    private readonly repository: DeviceJobsRepository,
    private readonly notifyNext: JobNotifyNextPublisher,
    private readonly changes: DeviceJobChanges,
  ) {}

  async apply(update: JobUpdateMessage): Promise<JobUpdateVerdict> {
    const result = await this.repository.withLockedJob(update.jobId, async (row, write) => {
      if (!row || row.deviceId !== update.deviceId) return { verdict: UNKNOWN_JOB };
      const current = row.status as DeviceJobStatus;
      const rejected = (rejection: JobUpdateRejection) => ({
        verdict: { accepted: false, status: current, versionNumber: row.versionNumber, rejection },
      });
      if (isTerminalJobStatus(current)) return rejected('terminal-state');
      if (update.expectedVersion !== row.versionNumber) return rejected('version-conflict');
      if (transitionProblem(current, update.status as DeviceJobStatus, 'device') !== undefined)
        return rejected('invalid');
      const written = await write({
        status: update.status as DeviceJobStatus,
        statusDetails: update.statusDetails,
        source: 'device',
      });
      return {
        verdict: { accepted: true, status: written.status, versionNumber: written.versionNumber },
        change: { job: toDeviceJob(written), previousStatus: current },
      };
    });
    if (result.change !== undefined) {
      this.changes.announce(result.change);
      if (isTerminalJobStatus(result.change.job.status)) await this.notifyNext.publish(update.deviceId);
    }
    return result.verdict;
  }

  /** The answer to a malformed update of `jobId`: `invalid` with the job's current status and version. */
  async rejectMalformed(deviceId: string, jobId: string): Promise<JobUpdateVerdict> {
    const row = await this.repository.findJob(jobId);
    if (!row || row.deviceId !== deviceId) return UNKNOWN_JOB;
    return { accepted: false, status: row.status, versionNumber: row.versionNumber, rejection: 'invalid' };
  }
}
