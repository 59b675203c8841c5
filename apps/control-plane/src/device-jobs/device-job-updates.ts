import { Injectable, Logger } from '@nestjs/common';
import { type JobExecutionStatus, type JobUpdateMessage, type JobUpdateRejection } from '@emofleet/protocol';
import { type DeviceJobExecutionRow } from '../database/schema';
import { StatementBatcher } from '../database/statement-batcher';
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
import { type Transaction } from '../database/database-connection';
import { DeviceJobsRepository } from './device-jobs.repository';
import { type JobStatusChanges } from './job-status-changes';
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

/** Updates applied in one transaction at most (one flush of the batcher). */
const MAX_UPDATES_PER_FLUSH = 500;
/** A flush that hits a database time limit is tried this many times in all; then its updates go unanswered. */
const FLUSH_TIMEOUT_ATTEMPTS = 2;

/** One update's outcome, committed. */
interface AppliedUpdate {
  verdict: JobUpdateVerdict;
  /** The accepted change, with the jobs a rollback's adopted desired state superseded. */
  change?: DeviceJobChange;
  superseded: DeviceJobChange[];
  desiredChanged: boolean;
}

/**
 * Applies the devices' job updates with optimistic concurrency (docs/protocol.md "Jobs"): an update applies
 * only when its `expectedVersion` equals the job's `versionNumber`, which then grows by one; a redelivered
 * update therefore never applies twice. Each accepted update is stored with its history entry and announced.
 * A rollback that SUCCEEDED makes the model it returned to the desired state in the same transaction.
 *
 * Updates arriving together are applied together (group commit): one transaction locks their jobs, decides each
 * update in arrival order against the job as the updates before it left it, and writes them all with a few
 * statements. A device hears the answer only after the commit.
 */
@Injectable()
export class DeviceJobUpdates {
  private readonly logger = new Logger(DeviceJobUpdates.name);
  private readonly batches: StatementBatcher<JobUpdateMessage, AppliedUpdate>;

  constructor(
    private readonly repository: DeviceJobsRepository,
    private readonly notifyNext: JobNotifyNextPublisher,
    private readonly changes: DeviceJobChanges,
    private readonly desired: DesiredStatePublisher,
  ) {
    this.batches = new StatementBatcher({
      what: 'job updates',
      run: (updates) => this.applyTogether(updates),
      maxWeight: MAX_UPDATES_PER_FLUSH,
      timeoutAttempts: FLUSH_TIMEOUT_ATTEMPTS,
      whenFailed: 'they go unanswered, so their devices send them again',
      logger: this.logger,
    });
  }

  /** Transactions that applied job updates so far (attempts after a failure included). */
  get flushes(): number {
    return this.batches.flushes;
  }

  async apply(update: JobUpdateMessage): Promise<JobUpdateVerdict> {
    const applied = await this.batches.submit(update);
    if (applied.change !== undefined) {
      this.changes.announce(applied.change);
      for (const superseded of applied.superseded) this.changes.announce(superseded);
      if (isTerminalJobStatus(applied.change.job.status)) await this.notifyNext.publish(update.deviceId);
      if (applied.desiredChanged) await this.desired.publish(update.deviceId);
    }
    return applied.verdict;
  }

  /** One transaction for all `updates`; their outcomes in the same order. */
  private applyTogether(updates: readonly JobUpdateMessage[]): Promise<AppliedUpdate[]> {
    const lock = {
      jobIds: updates.map((update) => update.jobId),
      // A SUCCEEDED rollback may change its device's desired state, whose row must then be locked first.
      deviceIds: [
        ...new Set(
          updates.filter((update) => update.status === 'SUCCEEDED').map((update) => update.deviceId),
        ),
      ],
    };
    return this.repository.withLockedJobs(lock, async (jobs, _now, tx) => {
      const decided = updates.map((update) => decide(jobs, update));
      const written = await jobs.write(tx);
      let next = 0;
      const applied: AppliedUpdate[] = [];
      for (const decision of decided) {
        if (!decision.accepted) {
          applied.push({ verdict: decision.verdict, superseded: [], desiredChanged: false });
          continue;
        }
        const row = written[next++];
        if (row === undefined) throw new Error('a job update was decided but not written');
        const adopted = await this.adoptRolledBackModel(tx, row);
        applied.push({
          verdict: { accepted: true, status: row.status, versionNumber: row.versionNumber },
          change: { job: toDeviceJob(row), previousStatus: decision.previousStatus },
          superseded: adopted?.superseded ?? [],
          desiredChanged: adopted !== undefined,
        });
      }
      return applied;
    });
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

type Decision =
  | { accepted: false; verdict: JobUpdateVerdict }
  | { accepted: true; previousStatus: DeviceJobStatus };

/** Decides one update against its locked job as the updates before it left it; stages it when accepted. */
function decide(jobs: JobStatusChanges, update: JobUpdateMessage): Decision {
  const row = jobs.get(update.jobId);
  if (!row || row.deviceId !== update.deviceId) return { accepted: false, verdict: UNKNOWN_JOB };
  const current = row.status as DeviceJobStatus;
  const rejected = (rejection: JobUpdateRejection): Decision => ({
    accepted: false,
    verdict: { accepted: false, status: current, versionNumber: row.versionNumber, rejection },
  });
  if (isTerminalJobStatus(current)) return rejected('terminal-state');
  if (update.expectedVersion !== row.versionNumber) return rejected('version-conflict');
  if (transitionProblem(current, update.status as DeviceJobStatus, 'device') !== undefined)
    return rejected('invalid');
  jobs.stage(update.jobId, {
    status: update.status as DeviceJobStatus,
    statusDetails: update.statusDetails,
    source: 'device',
  });
  return { accepted: true, previousStatus: current };
}
