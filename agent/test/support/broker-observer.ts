import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { until } from './wait';

export const LOCAL_MOSQUITTO_URL = process.env.EMOFLEET_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** A topic prefix no other test (or test run) shares. */
export function uniqueTopicPrefix(label: string): string {
  return `emofleet-test/${label}-${process.pid}-${randomBytes(4).toString('hex')}/v1`;
}

export interface ObservedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
  readonly json: Record<string, unknown> | undefined;
  /** MQTT 5 message expiry as received (observers connected with MQTT 5 only). */
  readonly messageExpiryInterval: number | undefined;
}

/**
 * A plain MQTT client watching `<prefix>/#`: records every message, and at the end clears every retained
 * topic it saw (so tests leave the shared broker as they found it).
 */
export class BrokerObserver {
  readonly messages: ObservedMessage[] = [];
  private readonly retainedTopics = new Set<string>();

  private constructor(
    private readonly client: MqttClient,
    readonly prefix: string,
  ) {
    client.on('message', (topic, payload, packet) => {
      if (packet.retain || payload.length > 0) this.retainedTopics.add(topic);
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(payload.toString()) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      const messageExpiryInterval = packet.properties?.messageExpiryInterval;
      this.messages.push({ topic, payload, retain: packet.retain, json, messageExpiryInterval });
    });
  }

  static async watch(url: string, prefix: string, protocolVersion: 4 | 5 = 4): Promise<BrokerObserver> {
    const client = await connectAsync(url, {
      protocolVersion,
      clientId: `observer-${randomBytes(6).toString('hex')}`,
      reconnectPeriod: 200,
      connectTimeout: 5000,
    });
    const observer = new BrokerObserver(client, prefix);
    await client.subscribeAsync(`${prefix}/#`, { qos: 1 });
    return observer;
  }

  on(suffix: string): ObservedMessage[] {
    return this.messages.filter(
      (message) => message.topic.endsWith(`/${suffix}`) && message.payload.length > 0,
    );
  }

  async waitFor(
    suffix: string,
    predicate: (json: Record<string, unknown>) => boolean,
    timeoutMs = 5000,
  ): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await until(
      () => {
        found = this.on(suffix).find(
          (message) => message.json !== undefined && predicate(message.json),
        )?.json;
        return found !== undefined;
      },
      `a matching message on .../${suffix}`,
      timeoutMs,
    );
    return found as Record<string, unknown>;
  }

  async publish(topic: string, payload: Buffer | string, retain = false): Promise<void> {
    if (retain) this.retainedTopics.add(topic);
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** The retained message of `topic` as a new subscriber would see it (undefined when none). */
  async retained(url: string, topic: string, timeoutMs = 1000): Promise<Record<string, unknown> | undefined> {
    const reader = await connectAsync(url, { clientId: `retained-${randomBytes(6).toString('hex')}` });
    try {
      const message = new Promise<Record<string, unknown> | undefined>((resolve) => {
        reader.on('message', (_topic, payload) =>
          resolve(JSON.parse(payload.toString()) as Record<string, unknown>),
        );
        setTimeout(() => resolve(undefined), timeoutMs);
      });
      await reader.subscribeAsync(topic, { qos: 1 });
      return await message;
    } finally {
      await reader.endAsync();
    }
  }

  /** Clears every retained topic seen under the prefix and disconnects. */
  async close(): Promise<void> {
    for (const topic of this.retainedTopics) {
      await this.client.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true });
    }
    await this.client.endAsync();
  }
}
