import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { ManagedProcess } from './managed-process';
import { waitForPort } from './wait';

/**
 * A private `redis-server` on a free port with its own directory and, as in production
 * (docker-compose.yml), the append-only file on: a restart keeps the queues.
 */
export class PrivateRedis {
  private server: ManagedProcess | undefined;

  private constructor(
    private readonly directory: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(mkdtempSync(join(tmpdir(), 'emofleet-faults-redis-')), await freePort());
    await redis.startServer();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async startServer(): Promise<void> {
    this.server = new ManagedProcess('redis-server', 'redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.directory,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
    ]);
    await waitForPort('private redis-server', this.port);
  }

  /** SIGTERM: Redis writes the append-only file and exits, as on `systemctl restart`. */
  async stopServer(): Promise<void> {
    await this.server?.stop('SIGTERM');
  }

  async dispose(): Promise<void> {
    await this.server?.stop('SIGKILL');
    rmSync(this.directory, { recursive: true, force: true });
  }
}
