import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig } from '../config/app-config';
import { INFRASTRUCTURE, type Infrastructure } from '../infra/infrastructure';
import { RedisAdapter } from './redis.adapter';

/** BullMQ's shared connection and key prefix; queues and processors are registered by their domains. */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG, INFRASTRUCTURE],
      useFactory: (config: AppConfig, infrastructure: Infrastructure) => ({
        connection: { url: infrastructure.redisUrl, maxRetriesPerRequest: null },
        prefix: config.queuePrefix,
      }),
    }),
  ],
  providers: [RedisAdapter],
  exports: [RedisAdapter],
})
export class QueuesModule {}
