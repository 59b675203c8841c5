import { Injectable, Logger } from '@nestjs/common';
import { type JobExecutionStatus, type JobUpdateMessage, type JobUpdateRejection } from '@emofleet/protocol';
import { type DeviceJobExecutionRow } from '../database/schema';
import { DesiredStatePublisher } from './desired-state.publisher';
import {
  type DeviceJobChange,
  DeviceJobStatus,
  isTerminalJobStatus,
  ROLLBACK,
  toDeviceJob,
} from './device-job';
import { DeviceJobChanges } from './device-job-changes';
import { transitionProblem } from './device-job-transitions';
import { DeviceJobsRepository, type Transaction } from './device-jobs.repository';
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
 * A rollback that SUCCEEDED makes the model it returned to the desired state in the same transaction.
 */
@Injectable()
export class DeviceJobUpdates {
  private readonly logger = new Logger(DeviceJobUpdates.name);

  constructor(
    private readonly repository: DeviceJobsRepository,
    private readonly notifyNext: JobNotifyNextPublisher,
    private readonly changes: DeviceJobChanges,
    private readonly desired: DesiredStatePublisher,
  ) {}

  async apply(update: JobUpdateMessage): Promise<JobUpdateVerdict> {
    const result = await this.repository.withLockedJob<{
      verdict: JobUpdateVerdict;
      change?: DeviceJobChange;
      desiredChanged?: { superseded: DeviceJobChange[] };
    }>(update.jobId, async (row, write, _now, tx) => {
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
        desiredChanged: await this.adoptRolledBackModel(tx, written),
      };
    });
    if (result.change !== undefined) {
      this.changes.announce(result.change);
      for (const superseded of result.desiredChanged?.superseded ?? []) this.changes.announce(superseded);
      if (isTerminalJobStatus(result.change.job.status)) await this.notifyNext.publish(update.deviceId);
      if (result.desiredChanged !== undefined) await this.desired.publish(update.deviceId);
    }
    return result.verdict;
  }

  /**
   * A SUCCEEDED rollback whose target the control plane knew (`modelVersionId`, set when it was queued): that
   * model version becomes the desired state, so reconciling does not install the model rolled back from again.
   * Skipped when the device reports another model than the target (its slots differ from what the control plane
   * replayed) or when the desired state changed after the rollback was queued.
   */
  private async adoptRolledBackModel(
    tx: Transaction,
    job: DeviceJobExecutionRow,
  ): Promise<{ superseded: DeviceJobChange[] } | undefined> {
    if (
      job.operation !== ROLLBACK ||
      (job.status as DeviceJobStatus) !== DeviceJobStatus.Succeeded ||
      job.modelVersionId === null
    )
      return undefined;
    const version = await this.repository.findModelVersion(job.modelVersionId, tx);
    if (!version) return undefined;
    const reported = job.statusDetails.modelId;
    if (reported !== undefined && reported !== version.modelName) {
      this.logger.warn(
        `rollback ${job.jobId} of ${job.deviceId} returned to ${reported}, not to ${version.modelName}@` +
          `${version.version} as its job history says: the desired state stays as it is`,
      );
      return undefined;
    }
    const adopted = await this.repository.adoptRolledBackModel(tx, {
      deviceId: job.deviceId,
      modelVersionId: version.id,
      model: { modelId: version.modelName, version: String(version.version) },
      queuedAtVersion: job.desiredVersion,
      rolloutId: job.rolloutId,
      issuedBy: `rollback:${job.jobId}`,
      supersededReason: (desiredVersion) =>
        `superseded by desired version ${desiredVersion} (rollback ${job.jobId})`,
    });
    if (adopted === undefined) return undefined;
    this.logger.log(
      `rollback ${job.jobId}: desired model of ${job.deviceId} is ${version.modelName}@${version.version} ` +
        `again (desired version ${adopted.desiredVersion})`,
    );
    return {
      superseded: adopted.superseded.map((ended) => ({
        job: toDeviceJob(ended.row),
        previousStatus: ended.previousStatus,
      })),
    };
  }

  /** The answer to a malformed update of `jobId`: `invalid` with the job's current status and version. */
  async rejectMalformed(deviceId: string, jobId: string): Promise<JobUpdateVerdict> {
    const row = await this.repository.findJob(jobId);
    if (!row || row.deviceId !== deviceId) return UNKNOWN_JOB;
    return { accepted: false, status: row.status, versionNumber: row.versionNumber, rejection: 'invalid' };
  }
}
