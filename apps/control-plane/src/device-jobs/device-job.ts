import { type JobStatusDetails } from '@emofleet/protocol';
import { type DeviceJobExecutionRow, type DeviceJobUpdateRow } from '../database/schema';

/** Status of one job execution on one device (docs/protocol.md "Jobs"). */
export enum DeviceJobStatus {
  Queued = 'QUEUED',
  InProgress = 'IN_PROGRESS',
  Succeeded = 'SUCCEEDED',
  Failed = 'FAILED',
  Rejected = 'REJECTED',
  TimedOut = 'TIMED_OUT',
  Canceled = 'CANCELED',
}

/** The statuses a job stays in until the device (or the control plane) finishes it. */
export const PENDING_JOB_STATUSES: readonly DeviceJobStatus[] = [
  DeviceJobStatus.Queued,
  DeviceJobStatus.InProgress,
];

/** Whether a job in `status` is over: no update may change it any more. */
export function isTerminalJobStatus(status: DeviceJobStatus): boolean {
  return !PENDING_JOB_STATUSES.includes(status);
}

/** The job operation that reconciles a device to its desired state. */
export const APPLY_DESIRED_STATE = 'apply-desired-state';
/** The device swaps back to the model it ran before (its previous slot). */
export const ROLLBACK = 'rollback';

/** One job execution on one device. */
export interface DeviceJob {
  jobId: string;
  deviceId: string;
  operation: string;
  parameters: Record<string, unknown>;
  status: DeviceJobStatus;
  versionNumber: number;
  statusDetails: JobStatusDetails;
  rolloutId: string | null;
  modelVersionId: string | null;
  desiredVersion: number | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  timeoutAt: Date | null;
}

/** A status change of a job, as `DeviceJobChanges` announces it. */
export interface DeviceJobChange {
  job: DeviceJob;
  previousStatus: DeviceJobStatus;
}

/** One entry of a job's append-only history. */
export interface DeviceJobUpdate {
  status: DeviceJobStatus;
  step: string | null;
  details: JobStatusDetails;
  versionNumber: number;
  /** `device`, or who changed it on the control plane (`token:<name>`, `rollout:<id>`, `timeout`). */
  source: string;
  at: Date;
}

export function toDeviceJob(row: DeviceJobExecutionRow): DeviceJob {
  return {
    jobId: row.jobId,
    deviceId: row.deviceId,
    operation: row.operation,
    parameters: row.parameters,
    status: row.status as DeviceJobStatus,
    versionNumber: row.versionNumber,
    statusDetails: row.statusDetails,
    rolloutId: row.rolloutId,
    modelVersionId: row.modelVersionId,
    desiredVersion: row.desiredVersion,
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    timeoutAt: row.timeoutAt,
  };
}

export function toDeviceJobUpdate(row: DeviceJobUpdateRow): DeviceJobUpdate {
  return {
    status: row.status as DeviceJobStatus,
    step: row.step,
    details: row.details,
    versionNumber: row.versionNumber,
    source: row.source,
    at: row.at,
  };
}
