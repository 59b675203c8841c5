import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TopicScheme } from '@emofleet/protocol';
import { DeviceConnection, silentLogger, type ConnectionStatus } from '../src';
import { BrokerObserver, uniqueTopicPrefix } from './support/broker-observer';
import { until } from './support/wait';
import { PrivateBroker } from './support/private-broker';
import { testBirth } from './support/test-birth';

jest.setTimeout(30_000);

describe('reconnecting to a broker that goes away and comes back (private mosquitto)', () => {
  let broker: PrivateBroker;
  let dataDir: string;

  beforeAll(async () => {
    broker = await PrivateBroker.create();
    await broker.start();
  });

  afterAll(async () => {
    await broker.dispose();
  });

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-reconnect-'));
  });

  afterEach(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('backs off while the broker is down, then reconnects with a new session and announces it', async () => {
    const prefix = uniqueTopicPrefix('reconnect');
    const delays: number[] = [];
    const statuses: ConnectionStatus[] = [];
    const connection = new DeviceConnection({
      url: broker.url,
      deviceId: 'reconnect-device',
      secret: 'secret',
      dataDir,
      topics: new TopicScheme(prefix),
      protocolVersion: 4,
      keepaliveSeconds: 5,
      connectTimeoutMs: 1000,
      reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
      backoff: {
        delayForAttempt: (attempt) => {
          const delay = Math.min(400, 50 * 2 ** attempt);
          delays.push(delay);
          return delay;
        },
      },
      birth: testBirth,
      logger: silentLogger,
    });
    connection.onStatusChange((status) => statuses.push(status));
    connection.start();
    try {
      await until(() => connection.status === 'online', 'first session online', 5000);
      const firstBdSeq = connection.bdSeq as number;

      await broker.stop();
      await until(() => delays.length >= 4, 'four failed reconnect attempts', 10_000);
      expect(connection.status).not.toBe('online');
      expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);

      await broker.start();
      const observer = await BrokerObserver.watch(broker.url, prefix);
      try {
        await until(() => connection.status === 'online', 'reconnected', 5000);
        const birth = await observer.waitFor('birth', () => true);
        expect(birth.bdSeq).toBe(connection.bdSeq);
        expect(connection.bdSeq).toBeGreaterThan(firstBdSeq + 1);
        expect(await observer.waitFor('state', (state) => state.state === 'online')).toMatchObject({
          bdSeq: connection.bdSeq,
        });
      } finally {
        await connection.stop();
        await observer.close();
      }
      expect(statuses).toEqual(
        expect.arrayContaining(['connecting', 'online', 'waiting-to-reconnect', 'stopping', 'stopped']),
      );
    } finally {
      await connection.stop();
    }
  });
});
