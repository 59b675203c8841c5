import { InjectQueue, Processor } from '@nestjs/bullmq';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type Queue } from 'bullmq';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import {
  EVENT_RETENTION_BATCH,
  EVENT_RETENTION_EVERY_MS,
  EVENT_RETENTION_JOB,
  EVENT_RETENTION_QUEUE,
} from './event-retention';
import { EventsDeletionRepository } from './events-deletion.repository';

const DAY_MS = 86_400_000;

/** Deletes events that started more than EVENT_RETENTION_DAYS ago, in batches (worker role). */
@Processor(EVENT_RETENTION_QUEUE)
export class EventRetentionProcessor extends LoggedWorkerHost {
  private readonly logger = new Logger(EventRetentionProcessor.name);

  constructor(
    private readonly deletion: EventsDeletionRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  async process(): Promise<number> {
    return this.deleteExpired(new Date());
  }

  /** Deletes every event that started before `now` minus the retention; returns how many. */
  async deleteExpired(now: Date): Promise<number> {
    const days = this.config.events.retentionDays;
    if (days === 0) return 0;
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    let total = 0;
    for (;;) {
      const deleted = await this.deletion.deleteStartedBefore(cutoff, EVENT_RETENTION_BATCH);
      total += deleted;
      if (deleted < EVENT_RETENTION_BATCH) break;
    }
    if (total > 0) this.logger.log(`deleted ${total} events that started before ${cutoff.toISOString()}`);
    return total;
  }
}

/** Registers the hourly retention job (upserted by id: one schedule however many workers start). */
@Injectable()
export class EventRetentionScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(EVENT_RETENTION_QUEUE) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      EVENT_RETENTION_JOB,
      { every: EVENT_RETENTION_EVERY_MS },
      { name: EVENT_RETENTION_JOB, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }
}
