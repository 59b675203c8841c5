import { EventEmitter } from 'node:events';
import { type IClientOptions } from 'mqtt';
import { type ConnectionClient, type Scheduler } from '../../src';

export interface RecordedPublish {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

/** An in-memory stand-in for an mqtt.js client: the test drives connect/close and inspects publishes. */
export class FakeClient extends EventEmitter implements ConnectionClient {
  readonly published: RecordedPublish[] = [];
  readonly subscribed: string[] = [];
  ended = false;

  constructor(
    readonly url: string,
    readonly options: IClientOptions,
  ) {
    super();
  }

  acceptConnection(): void {
    this.emit('connect');
  }

  dropConnection(): void {
    this.emit('close');
  }

  deliver(topic: string, payload: Buffer | string, retain = false): void {
    this.emit('message', topic, Buffer.from(payload), { retain });
  }

  subscribeAsync(subscriptions: Record<string, { qos: 0 | 1 }>) {
    this.subscribed.push(...Object.keys(subscriptions));
    return Promise.resolve(Object.entries(subscriptions).map(([topic, { qos }]) => ({ topic, qos })));
  }

  /** While set, publishes are recorded but their acknowledgement waits for `releasePublishes()`. */
  holdPublishes = false;
  private heldAcks: (() => void)[] = [];

  publishAsync(topic: string, payload: Buffer, options: { qos: 0 | 1; retain: boolean }) {
    this.published.push({ topic, payload, ...options });
    if (!this.holdPublishes) return Promise.resolve(undefined);
    return new Promise<undefined>((resolve) => this.heldAcks.push(() => resolve(undefined)));
  }

  releasePublishes(): void {
    this.holdPublishes = false;
    for (const ack of this.heldAcks.splice(0)) ack();
  }

  endAsync(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.emit('close');
    }
    return Promise.resolve();
  }

  /** Published payloads of one topic suffix, parsed. */
  messagesOn(suffix: string): Record<string, unknown>[] {
    return this.published
      .filter((publish) => publish.topic.endsWith(`/${suffix}`))
      .map((publish) => JSON.parse(publish.payload.toString()) as Record<string, unknown>);
  }
}

/** Collects timers instead of running them; `fireNext()` runs the earliest. */
export class FakeScheduler implements Scheduler {
  readonly requestedDelays: number[] = [];
  private pending: { handle: number; callback: () => void }[] = [];
  private nextHandle = 1;

  setTimeout(callback: () => void, delayMs: number): unknown {
    this.requestedDelays.push(delayMs);
    const handle = this.nextHandle++;
    this.pending.push({ handle, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((timer) => timer.handle !== handle);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  fireNext(): void {
    const timer = this.pending.shift();
    if (timer === undefined) throw new Error('no timer is pending');
    timer.callback();
  }
}
