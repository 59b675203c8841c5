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

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'CANCELED']);

/**
 * Reports the status of one job execution, one update at a time, each with `expectedVersion` = the version the
 * control plane last answered (optimistic concurrency, docs/protocol.md "Jobs"). Waits for each response; a
 * `version-conflict` resynchronises the version, a terminal status or `terminal-state` throws
 * `JobEndedByControlPlane`. Without a response in time (e.g. offline), it re-sends the same update. An
 * acceptance counts only when it is this update's (version `expectedVersion + 1`, the status reported).
 */
export class JobExecutionReporter {
  private version: number;
  private waiting: ((response: JobUpdateResponseMessage) => void) | undefined;
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
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      const expectedVersion = this.version;
      const response = new Promise<JobUpdateResponseMessage | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), this.responseTimeoutMs);
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
    this.logger.warn('no accepted answer to a job update; continuing', {
      jobId: this.jobId,
      status,
      step: statusDetails.step,
    });
  }

  close(): void {
    this.unsubscribe();
  }
}
