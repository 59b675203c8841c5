import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { type Job, type Worker } from 'bullmq';
import { describeDatabaseError } from '../database/describe-database-error';

/**
 * The base of every BullMQ processor: `WorkerHost` plus the worker's `error` and `failed` events, logged in
 * this one place under the processor's name. Without an `error` listener a Redis or lock error would go to
 * `console.error` (BullMQ's fallback) or, in a plain EventEmitter, crash the process; here it is logged and the
 * worker carries on (BullMQ reconnects by itself). A failed job's database error is logged with its cause and
 * SQLSTATE, not drizzle's statement with every parameter.
 */
export abstract class LoggedWorkerHost<W extends Worker = Worker> extends WorkerHost<W> {
  private readonly workerEvents = new Logger(this.constructor.name);

  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    this.workerEvents.error(`worker error: ${error.message}`, error.stack);
  }

  @OnWorkerEvent('failed')
  onWorkerJobFailed(job: Job | undefined, error: Error): void {
    const attempts = job?.opts.attempts ?? 1;
    this.workerEvents.warn(
      `job ${job?.id ?? '(unknown)'} (${job?.name ?? '?'}) failed, attempt ${job?.attemptsMade ?? '?'} of ` +
        `${attempts}: ${describeDatabaseError(error)}`,
    );
  }
}
