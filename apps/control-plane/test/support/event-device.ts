import {
  type EmotionEvent,
  type EventBatchMessage,
  type LostSequenceRange,
  PROTOCOL_VERSION,
  TopicScheme,
} from '@emofleet/protocol';
import { type MqttClient } from 'mqtt';
import { connectAsDevice, type Enrolment, enrolDevice } from './enrolment';

const LABELS = ['Happiness', 'Sadness', 'Surprise', 'Anger'];

/** A valid event with values derived from `seq` (label cycles through four, score 0.5-0.9). */
export function event(seq: number): EmotionEvent {
  return {
    seq,
    label: LABELS[seq % LABELS.length] ?? 'Happiness',
    score: 0.5 + (seq % 5) / 10,
    box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 },
    startedAt: Date.UTC(2026, 10, 27, 12, 0, 0) + seq * 1000,
    durationMs: 800,
    frameIndex: seq * 30,
    modelId: 'fer-tiny',
    trackId: seq,
  };
}

/** [from, from+1, ..., to] */
export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

/** A device publishing event batches and following its retained acknowledgement, over a plain MQTT client. */
export class EventDevice {
  highestAck = 0;
  private readonly eventsTopic: string;
  readonly ackTopic: string;

  private constructor(
    readonly enrolment: Enrolment,
    readonly client: MqttClient,
    topics: TopicScheme,
  ) {
    this.eventsTopic = topics.topicFor({ kind: 'events', deviceId: enrolment.deviceId });
    this.ackTopic = topics.topicFor({ kind: 'events-ack', deviceId: enrolment.deviceId });
    client.on('message', (topic, payload) => {
      if (topic !== this.ackTopic || payload.length === 0) return;
      const ack = JSON.parse(payload.toString()) as { highestContiguousSeq: number };
      this.highestAck = Math.max(this.highestAck, ack.highestContiguousSeq);
    });
  }

  static async connect(baseUrl: string, topicPrefix: string, name: string): Promise<EventDevice> {
    const enrolment = await enrolDevice(baseUrl, name, { tags: { site: name } });
    const client = await connectAsDevice(enrolment);
    const device = new EventDevice(enrolment, client, new TopicScheme(topicPrefix));
    await client.subscribeAsync(device.ackTopic, { qos: 1 });
    return device;
  }

  get id(): string {
    return this.enrolment.deviceId;
  }

  async send(seqs: number[], lost?: LostSequenceRange[]): Promise<void> {
    const batch: EventBatchMessage = {
      v: PROTOCOL_VERSION,
      deviceId: this.id,
      events: seqs.map(event),
      ...(lost ? { lost } : {}),
    };
    await this.raw(JSON.stringify(batch));
  }

  async raw(payload: string): Promise<void> {
    await this.client.publishAsync(this.eventsTopic, payload, { qos: 1 });
  }
}
