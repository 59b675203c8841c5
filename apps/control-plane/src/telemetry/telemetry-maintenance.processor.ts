import { InjectQueue, Processor } from '@nestjs/bullmq';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type Job, type Queue } from 'bullmq';
import {
  TELEMETRY_MAINTENANCE_QUEUE,
  TELEMETRY_MAINTENANCE_SCHEDULE,
  TelemetryMaintenanceJob,
} from './telemetry-maintenance';
import { TelemetryMaintenanceService } from './telemetry-maintenance.service';

/** Runs the roll-up and retention jobs (worker role). */
@Processor(TELEMETRY_MAINTENANCE_QUEUE)
export class TelemetryMaintenanceProcessor extends LoggedWorkerHost {
  constructor(private readonly maintenance: TelemetryMaintenanceService) {
    super();
  }

  async process(job: Job): Promise<void> {
    const name = job.name as TelemetryMaintenanceJob;
    switch (name) {
      case TelemetryMaintenanceJob.RollUp:
        return this.maintenance.rollUp();
      case TelemetryMaintenanceJob.Retention:
        return this.maintenance.applyRetention();
      default:
        throw new Error(`unknown ${TELEMETRY_MAINTENANCE_QUEUE} job "${String(job.name)}"`);
    }
  }
}

/**
 * Registers the repeatable jobs at worker start. Job schedulers are upserted by id, so several workers (or
 * restarts) keep exactly one schedule per job.
 */
@Injectable()
export class TelemetryMaintenanceScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(TELEMETRY_MAINTENANCE_QUEUE) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const [name, every] of Object.entries(TELEMETRY_MAINTENANCE_SCHEDULE)) {
      await this.queue.upsertJobScheduler(
        name,
        { every },
        { name, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
    }
  }
}
