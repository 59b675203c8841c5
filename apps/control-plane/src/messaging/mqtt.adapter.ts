import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  connectAsync,
  type DoneCallback,
  type IClientOptions,
  type IClientPublishOptions,
  type IPublishPacket,
  type MqttClient,
} from 'mqtt';
import { INFRASTRUCTURE, type Infrastructure } from '../infra/infrastructure';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig } from '../config/app-config';
import { describeDatabaseError } from '../database/describe-database-error';
import { InFlightLimit } from './in-flight-limit';
import { TopicRouter } from './topic-router';

export type MessageHandler = (topic: string, payload: Buffer) => Promise<void> | void;

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
  /** MQTT 5 message expiry; ignored on MQTT 3.1.1 brokers. */
  expirySeconds?: number;
}

interface Subscription {
  filter: string;
  shared: boolean;
  handler: MessageHandler;
}

/**
 * The control plane's connection to the MQTT broker. Speaks MQTT 5 when the broker does (shared
 * subscriptions so several replicas split device traffic, message expiry) and falls back to 3.1.1
 * (the embedded aedes broker). Services see topics and payloads only.
 *
 * Flow control: at most `mqtt.maxInFlight` (MQTT_MAX_IN_FLIGHT) received messages are handled at once.
 * mqtt.js reads one packet at a time and goes on to the next one (and sends a QoS 1 message's PUBACK) only
 * when its `handleMessage` hook calls back; the adapter calls back as soon as the message is admitted (a slot
 * is free and its handlers have started). At the limit it holds the callback until a handler finishes, so the client stops reading its
 * socket, TCP pushes back on the broker, and the backlog stays in the broker (whose queue limits then apply)
 * instead of in this process's memory; the held message is not acknowledged before it is admitted.
 *
 * Two connections: a reader that holds the subscriptions (and is the one that stops reading), and a writer
 * for publications. A handler that publishes at QoS 1 waits for the broker's PUBACK, which on a single
 * connection would queue behind the held message: with every slot taken by such handlers, nothing would ever
 * finish.
 */
@Injectable()
export class MqttAdapter implements OnApplicationShutdown {
  private readonly logger = new Logger(MqttAdapter.name);
  private reader: MqttClient | undefined;
  private writer: MqttClient | undefined;
  private protocolVersion: 4 | 5 = 5;
  private readonly subscriptions: Subscription[] = [];
  private readonly routes = new TopicRouter<Subscription>();
  private readonly slots: InFlightLimit;
  /** Bumped when the reader's connection closes: a message held across it is not acknowledged on the next. */
  private readerGeneration = 0;
  /** When the reader last read a packet of any kind (see the keepalive in openConnections). */
  private readerLastPacketAt = 0;
  private draining = false;
  private connecting: Promise<void> | undefined;
  private heldSinceLastLog = 0;
  private lastHeldLog = 0;

  constructor(
    @Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.slots = new InFlightLimit(config.mqtt.maxInFlight);
  }

  /** Times the reader's connection closed (each one a reconnect with a clean session). */
  get readerConnectionsLost(): number {
    return this.readerGeneration;
  }

  get url(): string {
    return this.infrastructure.mqttUrl;
  }

  get isConnected(): boolean {
    return (this.reader?.connected ?? false) && (this.writer?.connected ?? false);
  }

  get supportsMqtt5(): boolean {
    return this.protocolVersion === 5;
  }

  /** Received messages being handled now, the most ever at once, and the limit. */
  get inFlight(): { now: number; highWater: number; limit: number } {
    return { now: this.slots.size, highWater: this.slots.highWater, limit: this.slots.limit };
  }

  /** Connects once; later calls wait for the same connection. */
  connect(): Promise<void> {
    this.connecting ??= this.openConnections().catch(async (error: unknown) => {
      this.connecting = undefined;
      const opened = [this.reader, this.writer];
      this.reader = this.writer = undefined;
      for (const client of opened) if (client) await client.endAsync(true).catch(() => undefined);
      throw error;
    });
    return this.connecting;
  }

  private async openConnections(): Promise<void> {
    const clientId = `emofleet-cp-${this.config.role}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const { mqttAccount, tls } = this.infrastructure;
    const options: IClientOptions = {
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      keepalive: this.config.mqtt.keepaliveSeconds,
      // The embedded broker's internal account; an external broker's account comes in MQTT_URL.
      ...(mqttAccount ? { username: mqttAccount.username, password: mqttAccount.password } : {}),
      // With TLS on the embedded broker, trust the configured CA (a private CA is the common case).
      ...(tls?.ca ? { ca: tls.ca } : {}),
    };
    const readerOptions = { ...options, clientId: `${clientId}-r` };
    try {
      this.reader = await connectAsync(this.url, { ...readerOptions, protocolVersion: 5 }, false);
      this.protocolVersion = 5;
    } catch (error) {
      this.logger.log(`MQTT 5 refused by ${this.url} (${describe(error)}); using MQTT 3.1.1`);
      this.reader = await connectAsync(this.url, { ...readerOptions, protocolVersion: 4 }, false);
      this.protocolVersion = 4;
    }
    const reader = this.reader;
    reader.handleMessage = (packet, callback) => this.admit(packet, callback);
    // mqtt.js counts only acknowledgements and PINGRESP as signs of a live broker, and a reader held at the
    // in-flight limit parses nothing, PINGRESP included: under a sustained backlog it timed out every ~45 s and
    // reconnected with a clean session (retained births and states all over again). So any packet read within
    // the last 1.5 keepalives also proves the broker alive. The PINGREQs still go out on schedule: a reader that
    // only receives QoS 0 messages sends nothing else, and the broker ends a connection silent for that long.
    reader.on('packetreceive', () => (this.readerLastPacketAt = Date.now()));
    const keepaliveTimeout = reader.onKeepaliveTimeout.bind(reader);
    reader.onKeepaliveTimeout = () => {
      if (Date.now() - this.readerLastPacketAt < this.config.mqtt.keepaliveSeconds * 1500) {
        reader.reschedulePing(true);
      } else keepaliveTimeout();
    };
    reader.on('close', () => (this.readerGeneration += 1));
    this.watch(reader, 'reader');
    this.writer = await connectAsync(
      this.url,
      { ...options, clientId: `${clientId}-w`, protocolVersion: this.protocolVersion },
      false,
    );
    this.watch(this.writer, 'writer');
    this.logger.log(
      `MQTT connected to ${this.url} (v${this.protocolVersion === 5 ? '5' : '3.1.1'}, ` +
        `at most ${this.slots.limit} messages handled at once)`,
    );
  }

  private watch(client: MqttClient, role: string): void {
    client.on('error', (error) => this.logger.warn(`MQTT ${role} error: ${describe(error)}`));
    client.on('offline', () => this.logger.warn(`MQTT ${role} connection to ${this.url} lost; reconnecting`));
    client.on('connect', () => this.logger.log(`MQTT ${role} connected to ${this.url}`));
  }

  /**
   * Subscribes `handler` to `filter`. With `shared`, replicas in the same group split the messages
   * (`$share/<group>/<filter>`) when the broker speaks MQTT 5; on 3.1.1 every replica gets every message.
   */
  async subscribe(filter: string, handler: MessageHandler, options: { shared: boolean }): Promise<void> {
    const client = this.requireClient(this.reader);
    const subscription: Subscription = { filter, shared: options.shared, handler };
    this.subscriptions.push(subscription);
    this.routes.add(filter, subscription);
    await client.subscribeAsync(this.brokerFilter(subscription), { qos: 1 });
  }

  async publish(topic: string, payload: string | Buffer, options: PublishOptions): Promise<void> {
    const client = this.requireClient(this.writer);
    const publishOptions: IClientPublishOptions = { qos: options.qos, retain: options.retain ?? false };
    if (this.protocolVersion === 5 && options.expirySeconds !== undefined) {
      publishOptions.properties = { messageExpiryInterval: options.expirySeconds };
    }
    await client.publishAsync(topic, payload, publishOptions);
  }

  /**
   * Stops taking messages, lets the admitted handlers finish, then closes the connections. A message that
   * arrives (or is held at the limit) once draining began is neither handled nor acknowledged, and the reader
   * stops reading there: the broker keeps it for another subscriber or drops it with the session, as for a
   * crash, rather than this process acknowledging what it did not handle.
   */
  async onApplicationShutdown(): Promise<void> {
    const { reader, writer } = this;
    if (!reader && !writer) return;
    this.draining = true;
    if (reader?.connected && this.subscriptions.length > 0) {
      // Not awaited: the UNSUBACK can queue behind a message the reader no longer takes.
      reader
        .unsubscribeAsync(this.subscriptions.map((subscription) => this.brokerFilter(subscription)))
        .catch(() => undefined);
    }
    await this.slots.idle();
    // The reader may be stalled on an unread packet: closed at once. The writer first sends what the handlers
    // published (event acknowledgements) and waits for the broker to take it.
    await Promise.all([
      reader?.endAsync(true).catch(() => undefined),
      writer?.endAsync(!writer.connected).catch(() => undefined),
    ]);
    this.reader = this.writer = undefined;
  }

  private brokerFilter(subscription: Subscription): string {
    return subscription.shared && this.protocolVersion === 5
      ? `$share/${this.config.mqtt.sharedGroup}/${subscription.filter}`
      : subscription.filter;
  }

  /** mqtt.js's `handleMessage` hook: `done` lets it read the next packet (and PUBACK this one at QoS 1). */
  private admit(packet: IPublishPacket, done: DoneCallback): void {
    if (this.draining) return;
    // No topic alias maximum is advertised, so the broker always sends the topic itself.
    const topic = packet.topic;
    const subscriptions = this.routes.match(topic);
    if (subscriptions.length === 0) return done();
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (this.slots.tryTake()) {
      this.run(topic, payload, subscriptions);
      return done();
    }
    this.noteHeld();
    const generation = this.readerGeneration;
    void this.slots.take().then(() => {
      if (this.draining) return this.slots.release();
      this.run(topic, payload, subscriptions);
      // After a reconnect this message's packet id means nothing to the broker: handled, not acknowledged.
      if (generation === this.readerGeneration) done();
    });
  }

  /** Runs every handler of one message in its slot, which is released once all of them have settled. */
  private run(topic: string, payload: Buffer, subscriptions: readonly Subscription[]): void {
    let pending = subscriptions.length;
    const settle = (): void => {
      if ((pending -= 1) === 0) this.slots.release();
    };
    for (const subscription of subscriptions) {
      let result: Promise<void> | void;
      try {
        result = subscription.handler(topic, payload);
      } catch (error) {
        this.handlerFailed(subscription, error);
        settle();
        continue;
      }
      if (result === undefined) settle();
      else
        Promise.resolve(result).then(settle, (error: unknown) => {
          this.handlerFailed(subscription, error);
          settle();
        });
    }
  }

  private handlerFailed(subscription: Subscription, error: unknown): void {
    // Most handlers store what they received: a failed batch's drizzle error carries every parameter.
    this.logger.error(`handler for ${subscription.filter} failed: ${describeDatabaseError(error)}`);
  }

  private noteHeld(): void {
    this.heldSinceLastLog += 1;
    const now = Date.now();
    if (now - this.lastHeldLog < 60_000) return;
    this.logger.log(
      `${this.slots.limit} messages in flight: reading from the broker paused ` +
        `(${this.heldSinceLastLog} time(s) since the last report)`,
    );
    this.lastHeldLog = now;
    this.heldSinceLastLog = 0;
  }

  private requireClient(client: MqttClient | undefined): MqttClient {
    if (!client) throw new Error('MQTT adapter used before connect()');
    return client;
  }
}

export { topicMatches } from './topic-router';

/** An MQTT client's error: its message, and its cause's. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause === undefined ? error.message : `${error.message} (cause: ${describe(error.cause)})`;
}
