import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { TopicScheme } from '@emofleet/protocol';
import { DeviceConnection, silentLogger, type ConnectionStatus } from '../src';
import { uniqueTopicPrefix } from './support/broker-observer';
import { until } from './support/wait';
import { PrivateBroker } from './support/private-broker';
import { testBirth } from './support/test-birth';

jest.setTimeout(30_000);

const execFileAsync = promisify(execFile);

describe('device credentials (private mosquitto with a password file)', () => {
  let directory: string;
  let broker: PrivateBroker;

  beforeAll(async () => {
    directory = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-credentials-'));
    const passwordFile = path.join(directory, 'passwords');
    await execFileAsync('mosquitto_passwd', ['-b', '-c', passwordFile, 'secure-device', 'correct-secret']);
    broker = await PrivateBroker.create({ passwordFile });
    await broker.start();
  });

  afterAll(async () => {
    await broker.dispose();
    await fs.rm(directory, { recursive: true, force: true });
  });

  function connectionWith(secret: string, attempts: number[]): DeviceConnection {
    return new DeviceConnection({
      url: broker.url,
      deviceId: 'secure-device',
      secret,
      dataDir: directory,
      topics: new TopicScheme(uniqueTopicPrefix('credentials')),
      protocolVersion: 4,
      keepaliveSeconds: 5,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
      backoff: {
        delayForAttempt: (attempt) => {
          attempts.push(attempt);
          return 20;
        },
      },
      birth: testBirth,
      logger: silentLogger,
    });
  }

  it('goes online with the right secret', async () => {
    const connection = connectionWith('correct-secret', []);
    connection.start();
    try {
      await until(() => connection.status === 'online', 'online with the right secret', 5000);
    } finally {
      await connection.stop();
    }
  });

  it('keeps backing off, never online, with a wrong secret', async () => {
    const attempts: number[] = [];
    const connection = connectionWith('wrong-secret', attempts);
    const statuses: ConnectionStatus[] = [];
    connection.onStatusChange((status) => statuses.push(status));
    connection.start();
    try {
      await until(() => attempts.length >= 3, 'three refused attempts', 5000);
      expect(attempts.slice(0, 3)).toEqual([0, 1, 2]);
      expect(statuses).not.toContain('online');
    } finally {
      await connection.stop();
    }
  });
});
