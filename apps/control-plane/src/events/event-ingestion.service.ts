import { Injectable, Logger } from '@nestjs/common';
import { type EventBatchMessage } from '@emofleet/protocol';
import { EventAckPublisher } from './event-ack.publisher';
import { EventBatchWriter } from './event-batch-writer';
import { EventIngestCounters } from './event-ingest-counters';
import { EventsRepository } from './events.repository';
import { StoredEventsSignal } from './stored-events-signal';

interface PendingAck {
  /** Publish even when the frontier did not move (the device re-sent what we hold: it may lack our ack). */
  republish: boolean;
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

/** At most this many devices' frontiers in one statement. */
const MAX_FRONTIERS_PER_ROUND = 1000;

/**
 * Stores event batches exactly once per `(device, seq)` and acknowledges them. Storing goes through the
 * `EventBatchWriter` (many devices' batches in one statement and one commit). After the commit, the devices'
 * contiguous frontiers are recomputed from the stored rows, in rounds of one statement for every device waiting,
 * and the ones that grew are published (retained). Rounds never overlap, so frontier computations of one device
 * never overlap in this process; a device whose batch arrives during a round is computed again in the next.
 */
@Injectable()
export class EventIngestionService {
  private readonly logger = new Logger(EventIngestionService.name);
  private pendingAcks = new Map<string, PendingAck>();
  private ackRoundsRunning = false;

  constructor(
    private readonly writer: EventBatchWriter,
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
      stored = await this.writer.store({ deviceId: batch.deviceId, events: batch.events, lost });
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
    return new Promise<void>((resolve, reject) => {
      const pending = this.pendingAcks.get(deviceId);
      if (pending) {
        pending.republish ||= republish;
        pending.waiters.push({ resolve, reject });
      } else this.pendingAcks.set(deviceId, { republish, waiters: [{ resolve, reject }] });
      if (this.ackRoundsRunning) return;
      this.ackRoundsRunning = true;
      void this.runAckRounds();
    });
  }

  /** Never rejects (every round settles its waiters); ends in the same step as it sees nothing pending. */
  private async runAckRounds(): Promise<void> {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.pendingAcks.size > 0) await this.ackRound();
    } finally {
      this.ackRoundsRunning = false;
    }
  }

  /** One statement for every device waiting (at most `MAX_FRONTIERS_PER_ROUND`), then their acks. */
  private async ackRound(): Promise<void> {
    const round = [...this.pendingAcks].slice(0, MAX_FRONTIERS_PER_ROUND);
    for (const [deviceId] of round) this.pendingAcks.delete(deviceId);
    let frontiers;
    try {
      frontiers = await this.repository.advanceFrontiers(round.map(([deviceId]) => deviceId));
    } catch (error) {
      for (const [, pending] of round) for (const waiter of pending.waiters) waiter.reject(error);
      return;
    }
    await Promise.all(
      frontiers.map(async (frontier, index) => {
        const pending = round[index]?.[1];
        try {
          if (frontier.advanced || (pending?.republish && frontier.highestContiguousSeq > 0)) {
            await this.acks.publish(frontier.deviceId, frontier.highestContiguousSeq);
            this.counters.acksPublished++;
          }
          for (const waiter of pending?.waiters ?? []) waiter.resolve();
        } catch (error) {
          for (const waiter of pending?.waiters ?? []) waiter.reject(error);
        }
      }),
    );
  }
}
