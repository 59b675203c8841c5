import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { ZodSerializerInterceptor, ZodValidationPipe } from 'nestjs-zod';
import { type AppConfig, runsApi } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DevicesModule } from './devices/devices.module';
import { HealthModule } from './health/health.module';
import { ApiErrorFilter } from './http/api-error.filter';
import { type Infrastructure } from './infra/infrastructure';
import { MessagingModule } from './messaging/messaging.module';
import { QueuesModule } from './queues/queues.module';

/**
 * The control plane. Both roles share the infrastructure modules; the `api` role adds the HTTP API and the
 * MQTT gateway (device-facing listeners), the `worker` role adds the BullMQ processors. `all` runs both.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, infrastructure: Infrastructure): DynamicModule {
    const apiModules = runsApi(config.role) ? [DevicesModule] : [];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, infrastructure),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            autoLogging: { ignore: (request) => request.url === '/health' },
            redact: ['req.headers.authorization'],
          },
        }),
        DatabaseModule,
        MessagingModule,
        QueuesModule,
        HealthModule,
        ...apiModules,
      ],
      providers: [
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: ZodSerializerInterceptor },
        { provide: APP_FILTER, useClass: ApiErrorFilter },
      ],
    };
  }
}
