import { performance } from 'node:perf_hooks';
import {
  MAX_EVENTS_PER_BATCH,
  PROTOCOL_VERSION,
  type EventAckMessage,
  type EventBatchMessage,
  type LostSequenceRange,
} from '@emofleet/protocol';
import { type ConnectionStatus, type InboundHandler } from '../connection';
import { type Logger } from '../logger';
import { type EventSpool } from './event-spool';

/** The part of `DeviceConnection` the publisher uses. */
export interface EventChannel {
  readonly status: ConnectionStatus;
  publish(kind: 'events', message: EventBatchMessage): Promise<void>;
  onMessage(kind: 'events-ack', handler: InboundHandler<'events-ack'>): () => void;
  onStatusChange(listener: (status: ConnectionStatus) => void): () => void;
}

export interface EventPublisherOptions {
  readonly deviceId: string;
  readonly spool: EventSpool;
  readonly channel: EventChannel;
  readonly logger: Logger;
  /** Events per batch (at most 500, the protocol's limit). */
  readonly batchSize?: number;
  /** Largest number of events published and not yet acknowledged by the control plane. */
  readonly maxInFlightEvents?: number;
  /** Re-send from the acknowledgement when it has not advanced for this long while events are outstanding. */
  readonly resendAfterMs?: number;
  /**
   * Milliseconds on a clock that only moves forward (default: the monotonic clock). The stall check measures
   * durations with it; the wall clock would stop re-sends for as long as an NTP step set it back.
   */
  readonly now?: () => number;
}

/** Maximum lost ranges in one batch (the schema's bound). */
const MAX_LOST_RANGES_PER_BATCH = 64;

/**
 * Publishes spooled events as QoS 1 batches, in seq order, with a bounded window of events published but not
 * yet acknowledged. An acknowledgement (`events/ack`, highest contiguous seq) deletes events from the spool and
 * opens the window; every (re)connect replays from the acknowledgement; lost ranges are declared in the first
 * batch after they occur (and again after every replay) until acknowledged. See docs/protocol.md, "exactly once".
 */
export class EventPublisher {
  private readonly batchSize: number;
  private readonly maxInFlightEvents: number;
  private readonly resendAfterMs: number;
  private readonly now: () => number;
  private readonly unsubscribers: (() => void)[] = [];
  /** Next seq to publish in this session. */
  private cursor = 1;
  /** Whether the spool's current lost ranges were declared in this session. */
  private lostDeclared = false;
  private lastProgressAt = 0;
  private pumping = false;
  private pumpAgain = false;
  private resendTimer: NodeJS.Timeout | undefined;
  private publishedBatches = 0;

  constructor(private readonly options: EventPublisherOptions) {
    this.batchSize = Math.min(options.batchSize ?? 200, MAX_EVENTS_PER_BATCH);
    this.maxInFlightEvents = options.maxInFlightEvents ?? 2000;
    this.resendAfterMs = options.resendAfterMs ?? 30_000;
    this.now = options.now ?? (() => performance.now());
    if (!(this.batchSize >= 1 && this.maxInFlightEvents >= this.batchSize)) {
      throw new RangeError(
        `event publisher: batchSize (${this.batchSize}) must be >= 1 and <= maxInFlightEvents (${this.maxInFlightEvents})`,
      );
    }
  }

  /** Batches published since start (including re-sends). */
  get batchesPublished(): number {
    return this.publishedBatches;
  }

  start(): void {
    const { channel, spool } = this.options;
    this.unsubscribers.push(
      channel.onMessage('events-ack', ({ message }) => this.onAck(message)),
      channel.onStatusChange((status) => {
        if (status === 'online') this.replayFromAcknowledgement('connected');
      }),
      spool.onDurable(() => this.schedulePump()),
    );
    this.resendTimer = setInterval(() => this.resendIfStalled(), Math.max(50, this.resendAfterMs / 4));
    this.resendTimer.unref();
    if (channel.status === 'online') this.replayFromAcknowledgement('started');
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    if (this.resendTimer !== undefined) clearInterval(this.resendTimer);
  }

  private onAck(ack: EventAckMessage): void {
    if (this.options.spool.acknowledge(ack.highestContiguousSeq)) {
      this.lastProgressAt = this.now();
      if (this.options.spool.lostRanges.length === 0) this.lostDeclared = false;
      this.schedulePump();
    }
  }

  private replayFromAcknowledgement(why: string): void {
    this.cursor = this.options.spool.stats.acknowledgedSeq + 1;
    this.lostDeclared = false;
    this.lastProgressAt = this.now();
    this.options.logger.debug('publishing spooled events from the acknowledgement', {
      why,
      fromSeq: this.cursor,
      depth: this.options.spool.stats.depth,
    });
    this.schedulePump();
  }

  private resendIfStalled(): void {
    const acknowledgedSeq = this.options.spool.stats.acknowledgedSeq;
    const outstanding = this.cursor > acknowledgedSeq + 1 || this.lostDeclared;
    if (!outstanding || this.now() - this.lastProgressAt < this.resendAfterMs) return;
    this.options.logger.warn('no acknowledgement progress; re-sending from the acknowledgement', {
      acknowledgedSeq,
      cursor: this.cursor,
    });
    this.replayFromAcknowledgement('stalled');
  }

  private schedulePump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.options.channel.status === 'online' && (await this.publishNextBatch()));
      } while (this.pumpAgain && this.options.channel.status === 'online');
    } finally {
      this.pumping = false;
    }
  }

  /** Publishes one batch if there is something to send and room in the window; returns whether it did. */
  private async publishNextBatch(): Promise<boolean> {
    const { spool } = this.options;
    const acknowledgedSeq = spool.stats.acknowledgedSeq;
    this.cursor = Math.max(this.cursor, acknowledgedSeq + 1);
    const room = acknowledgedSeq + this.maxInFlightEvents + 1 - this.cursor;
    const events = room > 0 ? spool.readFrom(this.cursor, Math.min(this.batchSize, room)) : [];
    const lost: LostSequenceRange[] = this.lostDeclared
      ? []
      : spool.lostRanges.slice(0, MAX_LOST_RANGES_PER_BATCH);
    if (events.length === 0 && lost.length === 0) return false;
    // Nothing was outstanding: the wait for an acknowledgement starts now, not at the last progress (which may
    // be long ago on a quiet device, and would make the stall check re-send a batch that was just published).
    const windowWasEmpty = this.cursor === acknowledgedSeq + 1 && !this.lostDeclared;
    const batch: EventBatchMessage = {
      v: PROTOCOL_VERSION,
      deviceId: this.options.deviceId,
      events,
      ...(lost.length > 0 ? { lost } : {}),
    };
    try {
      await this.options.channel.publish('events', batch);
    } catch (error) {
      this.options.logger.debug('event batch not published; it will be replayed', { error });
      return false;
    }
    this.publishedBatches += 1;
    if (windowWasEmpty) this.lastProgressAt = this.now();
    const last = events[events.length - 1];
    if (last !== undefined) this.cursor = Math.max(this.cursor, last.seq + 1);
    if (lost.length > 0) this.lostDeclared = true;
    return true;
  }
}
