import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DesiredStatePublisher } from './desired-state.publisher';
import { DeviceJobsRepository } from './device-jobs.repository';
import { JobNotifyNextPublisher } from './job-notify-next.publisher';

const PAGE = 200;

/**
 * Republishes every device's retained `desired` and `jobs/notify-next` from the database when the api starts,
 * in the background: a publication lost between a commit and a crash, or a broker that lost its retained
 * store, is repaired at the next start. Agents ignore a desired state they already applied and jobs they run.
 */
@Injectable()
export class RetainedJobTopicsResync implements OnApplicationBootstrap {
  private readonly logger = new Logger(RetainedJobTopicsResync.name);

  constructor(
    private readonly repository: DeviceJobsRepository,
    private readonly desired: DesiredStatePublisher,
    private readonly notifyNext: JobNotifyNextPublisher,
  ) {}

  onApplicationBootstrap(): void {
    void this.resync().catch((error: unknown) =>
      this.logger.warn(
        `republishing desired states and job notifications failed: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  }

  private async resync(): Promise<void> {
    let after: string | null = null;
    let devices = 0;
    for (;;) {
      const page = await this.repository.devicesWithJobsOrDesiredState(after, PAGE);
      for (const deviceId of page) {
        await this.desired.publish(deviceId);
        await this.notifyNext.publish(deviceId);
      }
      devices += page.length;
      after = page[page.length - 1] ?? null;
      if (page.length < PAGE) break;
    }
    if (devices > 0) this.logger.log(`republished desired state and next job of ${devices} devices`);
  }
}
