import { Injectable, Logger } from '@nestjs/common';
import { findDatabaseTimeout } from '../database/database-timeouts';
import { type BatchToStore, EventsRepository, type StoredBatch } from './events.repository';

/** At most this many events go into one flush (one statement); the rest wait for the next. */
export const MAX_EVENTS_PER_FLUSH = 2000;
/**
 * A flush that hits a database time limit is stored again, whole, up to this many attempts in all; then its
 * batches fail (unacknowledged, so their devices keep and re-send them). A time-out is not one batch's fault:
 * it is never retried batch by batch, which would cost one time limit per batch.
 */
export const FLUSH_TIMEOUT_ATTEMPTS = 3;

interface Waiting {
  batch: BatchToStore;
  resolve: (stored: StoredBatch) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for event batches: batches arriving while a flush runs wait for the next one, which stores all
 * of them (any number of devices) with one statement and one commit. Each caller gets its own batch's outcome
 * only after that commit. When a flush fails, each of its batches is stored again on its own, so one batch the
 * database rejects fails alone and the others are still stored (inserts are idempotent, so storing again is
 * safe). One flush at a time: a burst costs a few large statements instead of thousands of small ones. The
 * database's time limits (DATABASE_STATEMENT_TIMEOUT_MS, DATABASE_QUERY_TIMEOUT_MS) keep a hung statement from
 * stalling the flushes for ever: a timed-out flush is tried again (`FLUSH_TIMEOUT_ATTEMPTS`), then fails.
 */
@Injectable()
export class EventBatchWriter {
  private readonly logger = new Logger(EventBatchWriter.name);
  private waiting: Waiting[] = [];
  private flushing = false;
  /** Flushes (statements) done so far, attempts after a time-out included. */
  flushes = 0;
  /** Flush attempts that ended at a database time limit. */
  flushTimeouts = 0;

  constructor(private readonly repository: EventsRepository) {}

  /** Stores one batch in the next flush; resolves once it is committed. */
  store(batch: BatchToStore): Promise<StoredBatch> {
    return new Promise<StoredBatch>((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      void this.flushWhileWaiting();
    });
  }

  /** Batches waiting for a flush. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Never rejects: `flush` settles every batch it takes. Ends in the same step as it sees nothing waiting. */
  private async flushWhileWaiting(): Promise<void> {
    try {
      // Let the batches of this turn of the event loop join the first flush.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.waiting.length > 0) await this.flush(this.takeFlush());
    } finally {
      this.flushing = false;
    }
  }

  private takeFlush(): Waiting[] {
    let events = 0;
    let taken = 0;
    while (taken < this.waiting.length) {
      events += this.waiting[taken]?.batch.events.length ?? 0;
      taken++;
      if (events >= MAX_EVENTS_PER_FLUSH) break;
    }
    const flush = this.waiting.slice(0, taken);
    this.waiting = this.waiting.slice(taken);
    return flush;
  }

  private async flush(flush: readonly Waiting[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.flushes++;
      try {
        const stored = await this.repository.storeBatches(flush.map((waiting) => waiting.batch));
        flush.forEach((waiting, index) =>
          waiting.resolve(stored[index] ?? { inserted: 0, newLossRanges: 0 }),
        );
        return;
      } catch (error) {
        const timeout = findDatabaseTimeout(error);
        if (timeout) {
          this.flushTimeouts++;
          if (attempt < FLUSH_TIMEOUT_ATTEMPTS) {
            this.logger.warn(
              `storing ${flush.length} event batches timed out (${timeout.message}); attempt ${attempt + 1} of ${FLUSH_TIMEOUT_ATTEMPTS}`,
            );
            continue;
          }
          this.logger.error(
            `storing ${flush.length} event batches timed out ${attempt} times (${timeout.message}); ` +
              'they stay unacknowledged, so their devices send them again',
          );
          for (const waiting of flush) waiting.reject(error);
          return;
        }
        if (flush.length === 1) {
          flush[0]?.reject(error);
          return;
        }
        this.logger.warn(
          `storing ${flush.length} event batches together failed (${describe(error)}); storing each on its own`,
        );
        break;
      }
    }
    for (const waiting of flush) {
      try {
        const [stored] = await this.repository.storeBatches([waiting.batch]);
        waiting.resolve(stored ?? { inserted: 0, newLossRanges: 0 });
      } catch (error) {
        waiting.reject(error);
      }
    }
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
