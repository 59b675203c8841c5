import { Injectable, Logger } from '@nestjs/common';
import { type DeviceJobChange } from './device-job';

export type DeviceJobChangeListener = (change: DeviceJobChange) => void | Promise<void>;

/**
 * In-process notification of every job status change after its commit (accepted device update, time-out,
 * cancel). Terminal statuses are announced once per job. A process that stops between the commit and the
 * announcement loses it, so consumers that need certainty also read the table (docs/device-jobs.md).
 */
@Injectable()
export class DeviceJobChanges {
  private readonly logger = new Logger(DeviceJobChanges.name);
  private readonly listeners = new Set<DeviceJobChangeListener>();

  /** Calls `listener` for every change from now on; returns the unsubscribe function. */
  subscribe(listener: DeviceJobChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Announces a committed change; a failing listener is logged and never affects the others or the caller. */
  announce(change: DeviceJobChange): void {
    for (const listener of this.listeners) {
      Promise.resolve()
        .then(() => listener(change))
        .catch((error: unknown) =>
          this.logger.error(
            `a listener of job ${change.job.jobId} (${change.previousStatus} → ${change.job.status}) failed: ` +
              `${error instanceof Error ? error.message : String(error)}`,
          ),
        );
    }
  }
}
