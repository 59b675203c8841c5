import { Injectable, Logger } from '@nestjs/common';
import { StatementBatcher } from '../database/statement-batcher';
import { type BatchToStore, EventsRepository, type StoredBatch } from './events.repository';

/** At most this many events go into one flush (one statement); the rest wait for the next. */
export const MAX_EVENTS_PER_FLUSH = 2000;
/** A flush that hits a database time limit is stored again, whole, up to this many attempts in all. */
export const FLUSH_TIMEOUT_ATTEMPTS = 3;

/**
 * Group commit for event batches (`StatementBatcher`): batches arriving while a flush runs wait for the next one,
 * which stores all of them (any number of devices) with one statement and one commit. Each caller gets its own
 * batch's outcome only after that commit; a batch the database rejects fails alone (inserts are idempotent, so
 * storing the others again is safe). A batch that fails is not acknowledged, so its device keeps and re-sends it.
 */
@Injectable()
export class EventBatchWriter {
  private readonly commits: StatementBatcher<BatchToStore, StoredBatch>;

  constructor(repository: EventsRepository) {
    this.commits = new StatementBatcher({
      what: 'event batches',
      run: (batches) => repository.storeBatches(batches),
      weight: (batch) => batch.events.length,
      maxWeight: MAX_EVENTS_PER_FLUSH,
      timeoutAttempts: FLUSH_TIMEOUT_ATTEMPTS,
      whenFailed: 'they stay unacknowledged, so their devices send them again',
      logger: new Logger(EventBatchWriter.name),
    });
  }

  /** Stores one batch in the next flush; resolves once it is committed. */
  store(batch: BatchToStore): Promise<StoredBatch> {
    return this.commits.submit(batch);
  }

  /** Batches waiting for a flush. */
  get queued(): number {
    return this.commits.queued;
  }

  /** Flushes (statements) done so far, attempts after a time-out included. */
  get flushes(): number {
    return this.commits.flushes;
  }

  /** Flush attempts that ended at a database time limit. */
  get flushTimeouts(): number {
    return this.commits.flushTimeouts;
  }
}
