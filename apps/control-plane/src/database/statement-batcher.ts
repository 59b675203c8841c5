import { type Logger } from '@nestjs/common';
import { describeDatabaseError } from './describe-database-error';
import { findDatabaseTimeout } from './database-timeouts';

export interface StatementBatcherOptions<TItem, TResult> {
  /** What the items are, plural, for log lines ("event batches"). */
  what: string;
  /** Runs the statement (or transaction) for all the items at once; returns one result per item, in order. */
  run: (items: readonly TItem[]) => Promise<TResult[]>;
  /**
   * The weight of an item (events in a batch, say; 1 per item when not given); a flush takes items until their
   * weight reaches `maxWeight`.
   */
  weight?: (item: TItem) => number;
  maxWeight: number;
  /**
   * A flush that hits a database time limit is written again, whole, up to this many attempts in all; then its
   * items fail. A time-out is not one item's fault: it is never retried item by item, which would cost one time
   * limit per item.
   */
  timeoutAttempts: number;
  /** What becomes of items that failed after every attempt (appended to the error log line). */
  whenFailed: string;
  logger: Logger;
}

interface Waiting<TItem, TResult> {
  item: TItem;
  resolve: (result: TResult) => void;
  reject: (error: unknown) => void;
}

/**
 * One statement for many callers: items submitted while a flush runs wait for the next one, which handles all of
 * them with one statement (or one transaction). For writes this is group commit: each caller gets its own item's
 * result only after the commit. When a flush fails for another reason than a time limit, each of its items is
 * run again on its own, so one item the database rejects fails alone and the others still succeed (writes must
 * therefore be idempotent). One flush at a time: a burst costs a few large statements instead of thousands of small ones. The database's time limits
 * (DATABASE_STATEMENT_TIMEOUT_MS, DATABASE_QUERY_TIMEOUT_MS) keep a hung statement from stalling the flushes for
 * ever: a timed-out flush is tried again (`timeoutAttempts`), then fails.
 */
export class StatementBatcher<TItem, TResult> {
  private waiting: Waiting<TItem, TResult>[] = [];
  private flushing = false;
  /** Flushes (statements) done so far, attempts after a time-out included. */
  flushes = 0;
  /** Flush attempts that ended at a database time limit. */
  flushTimeouts = 0;

  constructor(private readonly options: StatementBatcherOptions<TItem, TResult>) {}

  /** Adds one item to the next flush; resolves with its result once that flush is done (committed). */
  submit(item: TItem): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      void this.flushWhileWaiting();
    });
  }

  /** Items waiting for a flush. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Never rejects: `flush` settles every item it takes. Ends in the same step as it sees nothing waiting. */
  private async flushWhileWaiting(): Promise<void> {
    try {
      // Let the items of this turn of the event loop join the first flush.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.waiting.length > 0) await this.flush(this.takeFlush());
    } finally {
      this.flushing = false;
    }
  }

  private takeFlush(): Waiting<TItem, TResult>[] {
    let weight = 0;
    let taken = 0;
    while (taken < this.waiting.length) {
      const next = this.waiting[taken];
      weight += next ? (this.options.weight?.(next.item) ?? 1) : 0;
      taken++;
      if (weight >= this.options.maxWeight) break;
    }
    const flush = this.waiting.slice(0, taken);
    this.waiting = this.waiting.slice(taken);
    return flush;
  }

  private async flush(flush: readonly Waiting<TItem, TResult>[]): Promise<void> {
    const { what, run, timeoutAttempts, whenFailed, logger } = this.options;
    for (let attempt = 1; ; attempt++) {
      this.flushes++;
      try {
        const results = await run(flush.map((waiting) => waiting.item));
        flush.forEach((waiting, index) => settle(waiting, results[index], what));
        return;
      } catch (error) {
        const timeout = findDatabaseTimeout(error);
        if (timeout) {
          this.flushTimeouts++;
          if (attempt < timeoutAttempts) {
            logger.warn(
              `${flush.length} ${what} timed out (${timeout.message}); attempt ${attempt + 1} of ${timeoutAttempts}`,
            );
            continue;
          }
          logger.error(
            `${flush.length} ${what} timed out ${attempt} times (${timeout.message}); ${whenFailed}`,
          );
          for (const waiting of flush) waiting.reject(error);
          return;
        }
        if (flush.length === 1) {
          flush[0]?.reject(error);
          return;
        }
        logger.warn(
          `${flush.length} ${what} failed together (${describeDatabaseError(error)}); trying each on its own`,
        );
        break;
      }
    }
    for (const waiting of flush) {
      try {
        const [result] = await run([waiting.item]);
        settle(waiting, result, what);
      } catch (error) {
        waiting.reject(error);
      }
    }
  }
}

function settle<TItem, TResult>(
  waiting: Waiting<TItem, TResult>,
  result: TResult | undefined,
  what: string,
): void {
  if (result === undefined) waiting.reject(new Error(`${what}: the batch returned no result for an item`));
  else waiting.resolve(result);
}
