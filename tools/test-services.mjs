// Finds the Redis, MQTT broker and PostgreSQL the tests talk to. Each defaults to the standard local port;
// when Redis or the broker does not answer there, a private redis-server / mosquitto is started on a free
// port (found on PATH) and stopped afterwards. PostgreSQL must be running (`.ci/run` starts it).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function tcpAnswers(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startPrivate(command, args, port, what, installHint) {
  const child = spawn(command, args, { stdio: 'ignore' });
  const failed = await Promise.race([
    once(child, 'spawn').then(() => null),
    once(child, 'error').then(([e]) => e),
  ]);
  if (failed)
    throw new Error(
      `${what} does not answer on its default port and ${command} is not on PATH: ${installHint}`,
    );
  for (let i = 0; i < 100; i++) {
    if (await tcpAnswers('127.0.0.1', port, 200)) return child;
    if (child.exitCode !== null) break;
    await wait(100);
  }
  child.kill('SIGKILL');
  throw new Error(`private ${command} on port ${port} did not start`);
}

/** Resolves the three services; returns the env to give the tests and a function stopping what we started. */
export async function resolveTestServices(log = (line) => process.stdout.write(`${line}\n`)) {
  const children = [];
  const env = {};

  if (process.env.TEST_REDIS_URL) env.TEST_REDIS_URL = process.env.TEST_REDIS_URL;
  else if (await tcpAnswers('127.0.0.1', 6379)) env.TEST_REDIS_URL = 'redis://127.0.0.1:6379';
  else {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    children.push(await startPrivate('redis-server', args, port, 'Redis', 'apt install redis-server'));
    env.TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
    log(`test services: private redis-server on ${port}`);
  }

  if (process.env.TEST_MQTT_URL) env.TEST_MQTT_URL = process.env.TEST_MQTT_URL;
  else if (await tcpAnswers('127.0.0.1', 1883)) env.TEST_MQTT_URL = 'mqtt://127.0.0.1:1883';
  else {
    const port = await freePort();
    const command = process.env.MOSQUITTO_BIN ?? (await findMosquitto());
    children.push(
      await startPrivate(command, ['-p', String(port)], port, 'Mosquitto', 'apt install mosquitto'),
    );
    env.TEST_MQTT_URL = `mqtt://127.0.0.1:${port}`;
    log(`test services: private mosquitto on ${port}`);
  }

  env.TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const pg = new URL(env.TEST_DATABASE_URL);
  if (!(await tcpAnswers(pg.hostname, Number(pg.port || 5432)))) {
    throw new Error(
      `PostgreSQL does not answer at ${pg.host}: start it (pg_ctlcluster 15 main start) or set TEST_DATABASE_URL`,
    );
  }

  return {
    env,
    stop: async () => {
      for (const child of children) {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await once(child, 'exit');
        }
      }
    },
  };
}

async function findMosquitto() {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']) {
    if (await import('node:fs').then((fs) => fs.existsSync(candidate))) return candidate;
  }
  return 'mosquitto';
}
