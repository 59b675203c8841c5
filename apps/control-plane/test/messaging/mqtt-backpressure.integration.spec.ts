import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { loadAppConfig } from '../../src/config/app-config';
import { models } from '../../src/database/schema';
import { startEmbeddedBroker } from '../../src/infra/embedded-broker';
import { type BrokerAccount } from '../../src/infra/embedded-broker-access';
import { ephemeralPort } from '../../src/infra/free-port';
import { type Infrastructure } from '../../src/infra/infrastructure';
import { MqttAdapter } from '../../src/messaging/mqtt.adapter';
import { range } from '../support/event-device';
import { eventually } from '../support/eventually';
import { openTestDatabase } from '../support/test-database-connection';
import { testServices } from '../support/test-environment';

jest.setTimeout(30_000);

/** A broker to run the adapter against: the machine's Mosquitto (MQTT 5) or the embedded aedes (3.1.1). */
interface TestBroker {
  url: string;
  account: BrokerAccount | undefined;
  stop(): Promise<void>;
}

const BROKERS: Array<[string, () => Promise<TestBroker>]> = [
  [
    'Mosquitto, MQTT 5',
    () => Promise.resolve({ url: testServices.mqttUrl, account: undefined, stop: () => Promise.resolve() }),
  ],
  [
    'embedded aedes, MQTT 3.1.1',
    async () => {
      const broker = await startEmbeddedBroker(
        {
          preferredPort: await ephemeralPort(),
          host: '127.0.0.1',
          topicPrefix: 'emofleet/v1',
          tls: undefined,
        },
        () => undefined,
      );
      return { url: broker.url, account: broker.controlPlaneAccount, stop: () => broker.close() };
    },
  ],
];

/** A handler that holds each message until the test releases it, counting how many it holds at once. */
class HeldHandler {
  readonly started: string[] = [];
  readonly finished: string[] = [];
  running = 0;
  mostRunning = 0;
  private readonly held: Array<() => void> = [];

  readonly handle = async (_topic: string, payload: Buffer): Promise<void> => {
    this.started.push(payload.toString());
    this.running += 1;
    this.mostRunning = Math.max(this.mostRunning, this.running);
    await new Promise<void>((resolve) => this.held.push(resolve));
    this.running -= 1;
    this.finished.push(payload.toString());
  };

  get holding(): number {
    return this.held.length;
  }

  releaseAll(): void {
    for (const release of this.held.splice(0)) release();
  }
}

describe.each(BROKERS)('MQTT adapter flow control on %s', (_name, startBroker) => {
  let broker: TestBroker;
  let prefix: string;
  const adapters: MqttAdapter[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await startBroker();
  });

  afterAll(async () => {
    await broker.stop();
  });

  beforeEach(() => {
    prefix = `emofleet/v1/test-backpressure-${randomBytes(4).toString('hex')}`;
  });

  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((adapter) => adapter.onApplicationShutdown()));
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
  });

  async function adapter(maxInFlight: number, keepaliveSeconds = 30): Promise<MqttAdapter> {
    const config = loadAppConfig({
      EMOFLEET_ROLE: 'api',
      MQTT_URL: broker.url,
      MQTT_MAX_IN_FLIGHT: String(maxInFlight),
      MQTT_KEEPALIVE_SECONDS: String(keepaliveSeconds),
      MQTT_SHARED_GROUP: `test-${randomBytes(4).toString('hex')}`,
    });
    const infrastructure = { mqttUrl: broker.url, mqttAccount: broker.account, tls: undefined };
    const created = new MqttAdapter(infrastructure as Infrastructure, config);
    adapters.push(created);
    await created.connect();
    return created;
  }

  async function publisher(): Promise<MqttClient> {
    const options: IClientOptions = {
      clientId: `test-publisher-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
      ...(broker.account ? { username: broker.account.username, password: broker.account.password } : {}),
    };
    const client = await connectAsync(broker.url, options);
    clients.push(client);
    return client;
  }

  /** Publishes `count` QoS 1 messages alternating over `topics`; answers them per topic, in publication order. */
  async function publishAll(
    client: MqttClient,
    topics: string[],
    count: number,
  ): Promise<Map<string, string[]>> {
    const sent = new Map(topics.map((topic) => [topic, [] as string[]]));
    const publications: Promise<unknown>[] = [];
    for (let index = 0; index < count; index += 1) {
      const topic = topics[index % topics.length] ?? '';
      const payload = `${topic}#${index}`;
      sent.get(topic)?.push(payload);
      publications.push(client.publishAsync(topic, payload, { qos: 1 }));
    }
    await Promise.all(publications);
    return sent;
  }

  it('never runs more handlers than the limit, and delivers every message in order per topic', async () => {
    const limit = 3;
    const handler = new HeldHandler();
    const subscriber = await adapter(limit);
    await subscriber.subscribe(`${prefix}/bp/+`, handler.handle, { shared: true });
    const topics = [`${prefix}/bp/t1`, `${prefix}/bp/t2`];
    const total = 30;
    const sent = await publishAll(await publisher(), topics, total);

    await eventually(
      () => Promise.resolve(handler.holding),
      (holding) => holding >= limit,
      { what: `${limit} handlers holding` },
    );
    // Every message is on the broker (acknowledged to the publisher); a reader ignoring the limit would go on
    // taking them meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handler.started).toHaveLength(limit);
    expect(subscriber.inFlight).toEqual({ now: limit, highWater: limit, limit });

    // Released batch by batch: each release lets the next held messages in, never more than the limit.
    while (handler.finished.length < total) {
      await eventually(
        () => Promise.resolve(handler.holding),
        (holding) => holding > 0 || handler.finished.length === total,
        { what: 'the next messages admitted', timeoutMs: 8000 },
      );
      handler.releaseAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(handler.mostRunning).toBe(limit);
    expect(handler.finished).toHaveLength(total);
    for (const topic of topics) {
      const received = handler.started.filter((payload) => payload.startsWith(`${topic}#`));
      expect(received).toEqual(sent.get(topic));
    }
  });

  it('keeps its connection while held at the limit longer than the keepalive allows without a PINGRESP', async () => {
    // Keepalive 2 s: mqtt.js pings after 2 s and gives up after 3 s without a sign of life. The reader parses one
    // packet per 1.5 s hold, so the PINGRESP waits behind the held messages for about 9 s.
    const mqtt = await adapter(1, 2);
    const handled: string[] = [];
    const topic = `${prefix}/held`;
    await mqtt.subscribe(
      topic,
      async (_topic, payload) => {
        handled.push(payload.toString());
        await new Promise((resolve) => setTimeout(resolve, 1500));
      },
      { shared: false },
    );
    const sent = await publishAll(await publisher(), [topic], 6);
    await eventually(
      () => Promise.resolve(handled.length),
      (count) => count >= 6,
      { timeoutMs: 30_000, what: 'six held messages handled' },
    );
    // A keepalive time-out would have reconnected the reader with a clean session, dropping the held messages.
    expect(handled).toEqual(sent.get(topic));
    expect(mqtt.readerConnectionsLost).toBe(0);
  }, 40_000);

  it('keeps pinging while it only receives QoS 0 messages, which it never answers', async () => {
    // Keepalive 2 s: the broker ends a connection it heard nothing from for 3 s. A reader receiving QoS 0
    // messages sends no PUBACK, so its PINGREQs are all the broker hears from it.
    const mqtt = await adapter(10, 2);
    const topic = `${prefix}/qos0`;
    const handled: string[] = [];
    await mqtt.subscribe(topic, (_topic, payload) => void handled.push(payload.toString()), {
      shared: false,
    });
    const client = await publisher();
    const sent: string[] = [];
    for (let index = 0; index < 20; index += 1) {
      sent.push(`m${index}`);
      await client.publishAsync(topic, `m${index}`, { qos: 0 });
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    await eventually(
      () => Promise.resolve(handled.length),
      (count) => count >= sent.length,
      { what: 'every QoS 0 message handled' },
    );
    expect(handled).toEqual(sent);
    expect(mqtt.readerConnectionsLost).toBe(0);
  }, 30_000);

  it('keeps going when every slot is taken by handlers that publish at QoS 1', async () => {
    const subscriber = await adapter(2);
    const handled: string[] = [];
    await subscriber.subscribe(
      `${prefix}/in/+`,
      async (topic, payload) => {
        // Waits for the broker's PUBACK, which must not queue behind the messages held at the limit.
        await subscriber.publish(`${prefix}/out/${topic.split('/').at(-1) ?? ''}`, payload, { qos: 1 });
        handled.push(payload.toString());
      },
      { shared: true },
    );
    const total = 40;
    await publishAll(await publisher(), [`${prefix}/in/a`, `${prefix}/in/b`], total);
    await eventually(
      () => Promise.resolve(handled.length),
      (count) => count === total,
      { what: `${total} messages handled`, timeoutMs: 8000 },
    );
    expect(subscriber.inFlight.highWater).toBeLessThanOrEqual(2);
  });

  it('releases the slot of a handler that throws or rejects, and runs every handler of a filter', async () => {
    const subscriber = await adapter(1);
    const seen: string[] = [];
    await subscriber.subscribe(
      `${prefix}/err/+`,
      (topic, payload) => {
        seen.push(`exact:${payload.toString()}`);
        if (topic.endsWith('/throw')) throw new Error('thrown by the test');
      },
      { shared: false },
    );
    // The same filter twice (as presence and rollouts both take births): one delivery, both handlers.
    await subscriber.subscribe(
      `${prefix}/err/+`,
      async (topic, payload) => {
        seen.push(`all:${payload.toString()}`);
        await Promise.resolve();
        if (topic.endsWith('/reject')) throw new Error('rejected by the test');
      },
      { shared: false },
    );
    const client = await publisher();
    for (const name of ['throw', 'reject', 'fine'])
      await client.publishAsync(`${prefix}/err/${name}`, name, { qos: 1 });
    await eventually(
      () => Promise.resolve(seen.length),
      (count) => count >= 6,
      { what: 'six handler calls' },
    );
    expect(seen.sort()).toEqual(
      ['all:fine', 'all:reject', 'all:throw', 'exact:fine', 'exact:reject', 'exact:throw'].sort(),
    );
    await eventually(
      () => Promise.resolve(subscriber.inFlight.now),
      (now) => now === 0,
      { what: 'every slot released' },
    );
  });

  it("logs a handler's failed database batch by its cause, without drizzle's statement parameters", async () => {
    const database = await openTestDatabase('postgres');
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const subscriber = await adapter(1);
      const topic = `${prefix}/ingest`;
      // An ingest batch as the writers store them: one multi-row insert, here failing on its last row.
      const names = range(1, 2000).map((n) => `model-${n.toString().padStart(6, '0')}`);
      await subscriber.subscribe(
        topic,
        async () => {
          await database.connection.db
            .insert(models)
            .values([...names, names[0] ?? ''].map((name) => ({ name })));
        },
        { shared: false },
      );
      await (await publisher()).publishAsync(topic, 'batch', { qos: 1 });
      const failures = () =>
        Promise.resolve(
          logged.mock.calls.map(([message]) => String(message)).filter((message) => message.includes(topic)),
        );
      const [line] = await eventually(failures, (lines) => lines.length > 0, {
        what: 'the failed handler logged',
      });
      expect(line).toContain(`handler for ${topic} failed`);
      expect(line).toContain('duplicate key value violates unique constraint');
      expect(line).toContain('SQLSTATE 23505');
      expect(line).toContain('insert into "models"');
      expect(line).not.toContain('params:');
      expect(line).not.toContain('model-001000');
      expect(line?.length).toBeLessThan(500);
    } finally {
      logged.mockRestore();
      await database.close();
    }
  });

  it('on shutdown, waits for the admitted handlers and admits nothing more', async () => {
    const limit = 2;
    const handler = new HeldHandler();
    const subscriber = await adapter(limit);
    await subscriber.subscribe(`${prefix}/drain/+`, handler.handle, { shared: true });
    await publishAll(await publisher(), [`${prefix}/drain/a`], 10);
    await eventually(
      () => Promise.resolve(handler.holding),
      (holding) => holding === limit,
      { what: `${limit} handlers holding` },
    );

    let closed = false;
    const closing = subscriber.onApplicationShutdown().then(() => {
      closed = true;
      return handler.finished.length;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closed).toBe(false);
    handler.releaseAll();
    // Every admitted handler had finished when shutdown resolved.
    expect(await closing).toBe(limit);
    expect(handler.started).toHaveLength(limit);
    expect(subscriber.isConnected).toBe(false);
  });
});
