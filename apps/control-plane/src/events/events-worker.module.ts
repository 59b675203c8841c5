import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { EVENT_RETENTION_QUEUE } from './event-retention';
import { EventRetentionProcessor, EventRetentionScheduler } from './event-retention.processor';
import { EventsDeletionRepository } from './events-deletion.repository';

/** Event retention (worker role). */
@Module({
  imports: [BullModule.registerQueue({ name: EVENT_RETENTION_QUEUE })],
  providers: [EventsDeletionRepository, EventRetentionProcessor, EventRetentionScheduler],
})
export class EventsWorkerModule {}
