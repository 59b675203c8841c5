import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { connectAsync, type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { INFRASTRUCTURE, type Infrastructure } from '../infra/infrastructure';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig } from '../config/app-config';

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
 * The control plane's one connection to the MQTT broker. Speaks MQTT 5 when the broker does (shared
 * subscriptions so several replicas split device traffic, message expiry) and falls back to 3.1.1
 * (the embedded aedes broker). Services see topics and payloads only.
 */
@Injectable()
export class MqttAdapter implements OnApplicationShutdown {
  private readonly logger = new Logger(MqttAdapter.name);
  private client: MqttClient | undefined;
  private protocolVersion: 4 | 5 = 5;
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private draining = false;
  private connecting: Promise<void> | undefined;

  constructor(
    @Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get url(): string {
    return this.infrastructure.mqttUrl;
  }

  get isConnected(): boolean {
    return this.client?.connected ?? false;
  }

  get supportsMqtt5(): boolean {
    return this.protocolVersion === 5;
  }

  /** Connects once; later calls wait for the same connection. */
  connect(): Promise<void> {
    this.connecting ??= this.openConnection().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  private async openConnection(): Promise<void> {
    const clientId = `emofleet-cp-${this.config.role}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const { mqttAccount, tls } = this.infrastructure;
    const options: IClientOptions = {
      clientId,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      keepalive: 30,
      // The embedded broker's internal account; an external broker's account comes in MQTT_URL.
      ...(mqttAccount ? { username: mqttAccount.username, password: mqttAccount.password } : {}),
      // With TLS on the embedded broker, trust the configured CA (a private CA is the common case).
      ...(tls?.ca ? { ca: tls.ca } : {}),
    };
    try {
      this.client = await connectAsync(this.url, { ...options, protocolVersion: 5 }, false);
      this.protocolVersion = 5;
    } catch (error) {
      this.logger.log(`MQTT 5 refused by ${this.url} (${describe(error)}); using MQTT 3.1.1`);
      this.client = await connectAsync(this.url, { ...options, protocolVersion: 4 }, false);
      this.protocolVersion = 4;
    }
    const client = this.client;
    client.on('message', (topic, payload) => this.dispatch(topic, payload));
    client.on('error', (error) => this.logger.warn(`MQTT error: ${describe(error)}`));
    client.on('offline', () => this.logger.warn(`MQTT connection to ${this.url} lost; reconnecting`));
    client.on('connect', () => this.logger.log(`MQTT connected to ${this.url} (v${this.protocolVersion})`));
    this.logger.log(`MQTT connected to ${this.url} (v${this.protocolVersion === 5 ? '5' : '3.1.1'})`);
  }

  /**
   * Subscribes `handler` to `filter`. With `shared`, replicas in the same group split the messages
   * (`$share/<group>/<filter>`) when the broker speaks MQTT 5; on 3.1.1 every replica gets every message.
   */
  async subscribe(filter: string, handler: MessageHandler, options: { shared: boolean }): Promise<void> {
    const client = this.requireClient();
    const subscription: Subscription = { filter, shared: options.shared, handler };
    this.subscriptions.push(subscription);
    await client.subscribeAsync(this.brokerFilter(subscription), { qos: 1 });
  }

  async publish(topic: string, payload: string | Buffer, options: PublishOptions): Promise<void> {
    const client = this.requireClient();
    const publishOptions: IClientPublishOptions = { qos: options.qos, retain: options.retain ?? false };
    if (this.protocolVersion === 5 && options.expirySeconds !== undefined) {
      publishOptions.properties = { messageExpiryInterval: options.expirySeconds };
    }
    await client.publishAsync(topic, payload, publishOptions);
  }

  /** Stops taking messages, lets handlers already running finish, then closes the connection. */
  async onApplicationShutdown(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.draining = true;
    if (client.connected && this.subscriptions.length > 0) {
      await client
        .unsubscribeAsync(this.subscriptions.map((subscription) => this.brokerFilter(subscription)))
        .catch(() => undefined);
    }
    await Promise.allSettled([...this.inFlight]);
    await client.endAsync(!client.connected);
    this.client = undefined;
  }

  private brokerFilter(subscription: Subscription): string {
    return subscription.shared && this.protocolVersion === 5
      ? `$share/${this.config.mqtt.sharedGroup}/${subscription.filter}`
      : subscription.filter;
  }

  private dispatch(topic: string, payload: Buffer): void {
    if (this.draining) return;
    for (const subscription of this.subscriptions) {
      if (!topicMatches(subscription.filter, topic)) continue;
      const run = Promise.resolve()
        .then(() => subscription.handler(topic, payload))
        .catch((error: unknown) =>
          this.logger.error(`handler for ${subscription.filter} failed: ${describe(error)}`),
        )
        .finally(() => this.inFlight.delete(run));
      this.inFlight.add(run);
    }
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('MQTT adapter used before connect()');
    return this.client;
  }
}

/** MQTT topic filter matching (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === '#') return true;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
