import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { INFRASTRUCTURE, type Infrastructure } from '../infra/infrastructure';

/** A small Redis connection for health probes; BullMQ keeps its own connections. */
@Injectable()
export class RedisAdapter implements OnApplicationShutdown {
  private readonly client: Redis;

  constructor(@Inject(INFRASTRUCTURE) infrastructure: Infrastructure) {
    this.client = new Redis(infrastructure.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      enableOfflineQueue: false,
    });
    this.client.on('error', () => undefined);
  }

  async ping(): Promise<void> {
    if (this.client.status === 'wait' || this.client.status === 'end') await this.client.connect();
    const answer = await this.client.ping();
    if (answer !== 'PONG') throw new Error(`unexpected PING answer ${String(answer)}`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client.status !== 'end') await this.client.quit().catch(() => this.client.disconnect());
  }
}
