import { Module } from '@nestjs/common';
import { EventAckPublisher } from './event-ack.publisher';
import { EventBatchListener } from './event-batch.listener';
import { EventBatchWriter } from './event-batch-writer';
import { EventIngestCounters } from './event-ingest-counters';
import { EventIngestionService } from './event-ingestion.service';
import { EventsController } from './events.controller';
import { EventsQueryRepository } from './events-query.repository';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';
import { EventExportService } from './event-export.service';
import { EventStreamService } from './event-stream.service';
import { EventsDeletionRepository } from './events-deletion.repository';
import { StoredEventsSignal } from './stored-events-signal';

/** Emotion events: MQTT ingestion with acknowledgements (api role) and the events API. */
@Module({
  controllers: [EventsController],
  providers: [
    EventsRepository,
    EventsQueryRepository,
    EventAckPublisher,
    EventIngestCounters,
    EventBatchWriter,
    EventIngestionService,
    EventBatchListener,
    EventsService,
    EventsDeletionRepository,
    StoredEventsSignal,
    EventExportService,
    EventStreamService,
  ],
  exports: [EventIngestCounters],
})
export class EventsModule {}
