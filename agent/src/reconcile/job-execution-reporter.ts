import {
  PROTOCOL_VERSION,
  type DeviceReportableJobStatus,
  type JobExecution,
  type JobStatusDetails,
  type JobUpdateMessage,
  type JobUpdateResponseMessage,
} from '@emofleet/protocol';
import { type InboundHandler } from '../connection';
import { type Logger } from '../logger';

export interface JobChannel {
  publish(kind: 'job-update', message: JobUpdateMessage): Promise<void>;
  onMessage(kind: 'job-update-response', handler: InboundHandler<'job-update-response'>): () => void;
}

/** The control plane ended the execution (cancelled, timed out, or already terminal): stop working on it. */
export class JobEndedByControlPlane extends Error {
  override readonly name = 'JobEndedByControlPlane';
}

/** The reporter was closed (the agent is stopping) before the control plane answered. */
export class JobReportingStopped extends Error {
  override readonly name = 'JobReportingStopped';
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'CANCELED']);

/**
 * Reports the status of one job execution, one update at a time, each with `expectedVersion` = the version the
 * control plane last answered (optimistic concurrency, docs/protocol.md "Jobs"). Waits for each response; a
 * `version-conflict` resynchronises the version, a terminal status or `terminal-state` throws
 * `JobEndedByControlPlane`. Without a response in time (e.g. offline), it re-sends the same update. An
 * acceptance counts only when it is this update's (version `expectedVersion + 1`, the status reported).
 * A progress report is given up after `maxAttempts`; a final status (the job's outcome) is sent until it is
 * answered, the job ends at the control plane (its time-out) or the reporter is closed (`JobReportingStopped`):
 * given up, the outcome would reach the control plane only as a time-out.
 */
export class JobExecutionReporter {
  private version: number;
  private waiting: ((response: JobUpdateResponseMessage) => void) | undefined;
  private stopWaiting: (() => void) | undefined;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly channel: JobChannel,
    private readonly deviceId: string,
    readonly execution: JobExecution,
    private readonly logger: Logger,
    private readonly responseTimeoutMs = 10_000,
    private readonly maxAttempts = 6,
  ) {
    this.version = execution.versionNumber;
    this.unsubscribe = channel.onMessage('job-update-response', ({ message }) => {
      if (message.jobId === execution.jobId) this.waiting?.(message);
    });
  }

  get jobId(): string {
    return this.execution.jobId;
  }

  async report(status: DeviceReportableJobStatus, statusDetails: JobStatusDetails): Promise<void> {
    const final = TERMINAL.has(status);
    for (let attempt = 1; ; attempt += 1) {
      if (this.closed)
        throw new JobReportingStopped(`stopped while reporting ${status} for job ${this.jobId}`);
      if (attempt > this.maxAttempts && !final) {
        this.logger.warn('no accepted answer to a job update; continuing', {
          jobId: this.jobId,
          status,
          step: statusDetails.step,
        });
        return;
      }
      if (attempt === this.maxAttempts + 1) {
        this.logger.warn('no accepted answer to a final job update yet; sending it until it is answered', {
          jobId: this.jobId,
          status,
          attempts: this.maxAttempts,
        });
      }
      const expectedVersion = this.version;
      const response = new Promise<JobUpdateResponseMessage | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), this.responseTimeoutMs);
        this.stopWaiting = () => {
          clearTimeout(timer);
          resolve(undefined);
        };
        this.waiting = (message) => {
          // A late acceptance of an earlier update of this job (one given up on after its attempts) is not the
          // answer to this one: taking it would leave this update unapplied while the agent goes on. This
          // update's own answer (its acceptance, or a version conflict that resynchronises) follows.
          if (
            message.accepted &&
            !(message.versionNumber === expectedVersion + 1 && message.status === status)
          ) {
            this.logger.debug('late answer to an earlier job update; still waiting', {
              jobId: this.jobId,
              versionNumber: message.versionNumber,
            });
            return;
          }
          clearTimeout(timer);
          resolve(message);
        };
      });
      try {
        await this.channel.publish('job-update', {
          v: PROTOCOL_VERSION,
          deviceId: this.deviceId,
          jobId: this.execution.jobId,
          status,
          expectedVersion,
          statusDetails,
          timestamp: Date.now(),
        });
      } catch (error) {
        this.logger.debug('job update not published; retrying', { jobId: this.jobId, error });
      }
      const answer = await response;
      this.waiting = undefined;
      this.stopWaiting = undefined;
      if (answer === undefined) continue;
      this.version = answer.versionNumber;
      if (answer.accepted) return;
      if (answer.rejection === 'terminal-state' || TERMINAL.has(answer.status)) {
        throw new JobEndedByControlPlane(`job ${this.jobId} is ${answer.status} at the control plane`);
      }
      this.logger.info('job update rejected; retrying with the current version', {
        jobId: this.jobId,
        rejection: answer.rejection,
        versionNumber: answer.versionNumber,
      });
    }
  }

  /** Stops listening; a report waiting for its answer throws `JobReportingStopped`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.stopWaiting?.();
  }
}
