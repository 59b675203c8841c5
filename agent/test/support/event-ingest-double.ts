import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import {
  buildPublication,
  decodeMessage,
  PROTOCOL_VERSION,
  type EventAckMessage,
  type TopicScheme,
} from '@emofleet/protocol';

/**
 * A test double of the control plane's event ingestion, behaving as docs/protocol.md specifies: stores events
 * by (device, seq) ignoring duplicates, records declared lost ranges, computes the highest contiguous seq from
 * what it stored and publishes it retained on `events/ack` when it grew. It also counts every delivery of every
 * seq, so a test can tell "stored once" from "delivered once".
 */
export class EventIngestDouble {
  /** seq → number of times it was delivered. */
  readonly deliveries = new Map<number, number>();
  readonly lost = new Set<number>();
  highestContiguousSeq = 0;
  batches = 0;
  /** While false, batches are stored but no acknowledgement is published (a slow or stuck control plane). */
  acknowledging = true;

  private constructor(
    private readonly client: MqttClient,
    private readonly topics: TopicScheme,
    private readonly deviceId: string,
  ) {
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  static async start(url: string, topics: TopicScheme, deviceId: string): Promise<EventIngestDouble> {
    const client = await connectAsync(url, {
      clientId: `ingest-double-${randomBytes(6).toString('hex')}`,
      reconnectPeriod: 200,
      connectTimeout: 2000,
    });
    const double = new EventIngestDouble(client, topics, deviceId);
    await client.subscribeAsync(topics.topicFor({ kind: 'events', deviceId }), { qos: 1 });
    return double;
  }

  /** Seqs stored (delivered at least once), ascending. */
  storedSeqs(): number[] {
    return [...this.deliveries.keys()].sort((a, b) => a - b);
  }

  duplicateDeliveries(): number {
    return [...this.deliveries.values()].reduce((sum, count) => sum + count - 1, 0);
  }

  /** Publishes the current acknowledgement (e.g. after acknowledging was switched back on). */
  async publishAck(): Promise<void> {
    const ack: EventAckMessage = {
      v: PROTOCOL_VERSION,
      deviceId: this.deviceId,
      highestContiguousSeq: this.highestContiguousSeq,
      timestamp: Date.now(),
    };
    const publication = buildPublication(this.topics, 'events-ack', ack, 4);
    await this.client.publishAsync(publication.topic, publication.payload, {
      qos: publication.qos,
      retain: publication.retain,
    });
  }

  async close(): Promise<void> {
    await this.client
      .publishAsync(this.topics.topicFor({ kind: 'events-ack', deviceId: this.deviceId }), Buffer.alloc(0), {
        qos: 1,
        retain: true,
      })
      .catch(() => undefined);
    await this.client.endAsync(true);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const decoded = decodeMessage(topic, payload, { topics: this.topics });
    if (!decoded.ok || decoded.kind !== 'events')
      throw new Error(`ingest double got ${topic}: ${decoded.ok ? decoded.kind : decoded.detail}`);
    this.batches += 1;
    for (const event of decoded.message.events) {
      this.deliveries.set(event.seq, (this.deliveries.get(event.seq) ?? 0) + 1);
    }
    for (const range of decoded.message.lost ?? []) {
      for (let seq = range.fromSeq; seq <= range.toSeq; seq += 1) this.lost.add(seq);
    }
    let highest = this.highestContiguousSeq;
    while (this.deliveries.has(highest + 1) || this.lost.has(highest + 1)) highest += 1;
    if (highest > this.highestContiguousSeq) {
      this.highestContiguousSeq = highest;
      if (this.acknowledging) void this.publishAck();
    }
  }
}
