import { Injectable, Logger } from '@nestjs/common';
import { type EventBatchMessage } from '@emofleet/protocol';
import { ConcurrencyLimit } from './concurrency-limit';
import { EventAckPublisher } from './event-ack.publisher';
import { EventIngestCounters } from './event-ingest-counters';
import { EventsRepository } from './events.repository';
import { StoredEventsSignal } from './stored-events-signal';

const STORE_CONCURRENCY = 4;

interface AckRun {
  /** Set when another batch committed while this run was computing: compute once more. */
  again: boolean;
  /** Publish even when the frontier did not move (the device re-sent what we hold: it may lack our ack). */
  republish: boolean;
  done: Promise<void>;
}

/**
 * Stores event batches exactly once per `(device, seq)` and acknowledges them: after the insert commits, the
 * device's contiguous frontier is recomputed from the stored rows and published (retained) when it grew.
 * Frontier computations of one device never overlap in this process; batches arriving meanwhile are coalesced
 * into one more computation.
 */
@Injectable()
export class EventIngestionService {
  private readonly logger = new Logger(EventIngestionService.name);
  private readonly ackRuns = new Map<string, AckRun>();
  /** Batch transactions at once: fewer than the database pool's connections, so acks always get one. */
  private readonly stores = new ConcurrencyLimit(STORE_CONCURRENCY);

  constructor(
    private readonly repository: EventsRepository,
    private readonly acks: EventAckPublisher,
    private readonly counters: EventIngestCounters,
    private readonly storedSignal: StoredEventsSignal,
  ) {}

  /** Stores one decoded batch and resolves once its acknowledgement (if any) has been published. */
  async ingest(batch: EventBatchMessage): Promise<void> {
    const lost = batch.lost ?? [];
    let stored;
    try {
      stored = await this.stores.run(() => this.repository.storeBatch(batch.deviceId, batch.events, lost));
    } catch (error) {
      this.counters.batchesFailed++;
      throw error;
    }
    this.counters.batchesStored++;
    this.counters.eventsStored += stored.inserted;
    this.counters.eventsDuplicate += batch.events.length - stored.inserted;
    if (stored.inserted > 0) this.storedSignal.notify();
    if (stored.newLossRanges > 0) {
      this.counters.eventsDeclaredLost += lost.reduce(
        (sum, range) => sum + range.toSeq - range.fromSeq + 1,
        0,
      );
      this.logger.warn(
        `device ${batch.deviceId} declared lost events ${lost.map((r) => `${r.fromSeq}-${r.toSeq}`).join(', ')}`,
      );
    }
    const nothingNew = stored.inserted === 0 && stored.newLossRanges === 0;
    await this.acknowledge(batch.deviceId, nothingNew);
  }

  private acknowledge(deviceId: string, republish: boolean): Promise<void> {
    const running = this.ackRuns.get(deviceId);
    if (running) {
      running.again = true;
      running.republish ||= republish;
      return running.done;
    }
    const run: AckRun = { again: true, republish, done: Promise.resolve() };
    run.done = (async () => {
      try {
        while (run.again) {
          run.again = false;
          const republishNow = run.republish;
          run.republish = false;
          const frontier = await this.repository.advanceFrontier(deviceId);
          if (frontier.advanced || (republishNow && frontier.highestContiguousSeq > 0)) {
            await this.acks.publish(deviceId, frontier.highestContiguousSeq);
            this.counters.acksPublished++;
          }
        }
      } finally {
        this.ackRuns.delete(deviceId);
      }
    })();
    this.ackRuns.set(deviceId, run);
    return run.done;
  }
}
