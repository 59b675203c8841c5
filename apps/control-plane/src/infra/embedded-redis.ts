import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import Redis from 'ioredis';
import { ephemeralPort } from './free-port';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface ResolvedRedis {
  url: string;
  /** How the URL was found, for the boot log. */
  source: 'configured' | 'default-url' | 'private-redis-server';
  stop(): Promise<void>;
}

export class RedisUnavailableError extends Error {
  constructor() {
    super(
      `no Redis answers on ${DEFAULT_REDIS_URL} and no redis-server is on PATH: ` +
        'install one with `apt install redis-server` or start one with `docker compose up -d redis`, ' +
        'or set REDIS_URL',
    );
    this.name = 'RedisUnavailableError';
  }
}

/** True when a Redis server answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Finds the Redis that BullMQ will use: the configured URL as is; else one answering on the default URL;
 * else a private `redis-server` on a free loopback port with persistence off, stopped by `stop()`.
 */
export async function resolveRedis(
  configuredUrl: string | undefined,
  log: (line: string) => void,
): Promise<ResolvedRedis> {
  const noop = () => Promise.resolve();
  if (configuredUrl) return { url: configuredUrl, source: 'configured', stop: noop };
  if (await redisAnswers(DEFAULT_REDIS_URL))
    return { url: DEFAULT_REDIS_URL, source: 'default-url', stop: noop };
  const port = await ephemeralPort();
  const child = await startRedisServer(port);
  const url = `redis://127.0.0.1:${port}`;
  log(`no Redis on ${DEFAULT_REDIS_URL}: started a private redis-server (pid ${child.pid ?? '?'}) on ${url}`);
  return { url, source: 'private-redis-server', stop: () => stopChild(child) };
}

async function startRedisServer(port: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const spawnError = await Promise.race([
    once(child, 'spawn').then(() => undefined),
    once(child, 'error').then(([error]) => error as NodeJS.ErrnoException),
  ]);
  if (spawnError) {
    if (spawnError.code === 'ENOENT') throw new RedisUnavailableError();
    throw spawnError;
  }
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (child.exitCode !== null) break;
    if (await redisAnswers(url, 200)) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopChild(child);
  throw new Error(`the private redis-server on port ${port} did not answer PING within 5 s`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
