import { Injectable } from '@nestjs/common';

/** Monotonic counters of event ingestion since start, for throughput measurement and `/metrics`. */
@Injectable()
export class EventIngestCounters {
  batchesStored = 0;
  /** Events inserted for the first time. */
  eventsStored = 0;
  /** Events received again after they were stored (redelivery, replay): not inserted. */
  eventsDuplicate = 0;
  /** Sequence numbers devices declared lost in newly recorded ranges. */
  eventsDeclaredLost = 0;
  acksPublished = 0;
  /** Batches whose storage failed (database unavailable); the device re-sends them. */
  batchesFailed = 0;
}
