import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { ZodSerializerInterceptor, ZodValidationPipe } from 'nestjs-zod';
import { type AppConfig, runsApi, runsWorker } from './config/app-config';
import { ArtifactsHttpModule } from './artifacts/artifacts-http.module';
import { ArtifactStorageModule } from './artifacts/artifacts.module';
import { ModelsModule } from './models/models.module';
import { JobsHttpModule } from './pipeline/pipeline.module';
import { PipelineWorkerModule } from './pipeline/pipeline-worker.module';
import { QueueDashboardModule } from './pipeline/queue-dashboard.module';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { FleetDashboardModule } from './dashboard/dashboard.module';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo/demo.module';
import { DeviceJobsModule } from './device-jobs/device-jobs.module';
import { DeviceJobsWorkerModule } from './device-jobs/device-jobs-worker.module';
import { DevicesModule } from './devices/devices.module';
import { EnginesModule } from './engines/engines.module';
import { EnginesWorkerModule } from './engines/engines-worker.module';
import { EnrolmentModule } from './enrolment/enrolment.module';
import { EventsModule } from './events/events.module';
import { EventsWorkerModule } from './events/events-worker.module';
import { HealthModule } from './health/health.module';
import { ApiErrorFilter } from './http/api-error.filter';
import { type Infrastructure } from './infra/infrastructure';
import { MessagingModule } from './messaging/messaging.module';
import { MetricsModule } from './metrics/metrics.module';
import { QueuesModule } from './queues/queues.module';
import { RolloutsModule } from './rollouts/rollouts.module';
import { TelemetryModule } from './telemetry/telemetry.module';
import { TelemetryWorkerModule } from './telemetry/telemetry-worker.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WebhooksWorkerModule } from './webhooks/webhooks-worker.module';

/**
 * The control plane. Both roles share the infrastructure modules; the `api` role adds the HTTP API and the
 * MQTT gateway (device-facing listeners), the `worker` role adds the BullMQ processors. `all` runs both.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, infrastructure: Infrastructure): DynamicModule {
    const apiModules = runsApi(config.role)
      ? [
          DevicesModule,
          DeviceJobsModule,
          RolloutsModule,
          EnginesModule,
          ArtifactsHttpModule,
          ModelsModule,
          JobsHttpModule,
          QueueDashboardModule,
          EnrolmentModule,
          EventsModule,
          TelemetryModule,
          MetricsModule,
          WebhooksModule,
          FleetDashboardModule,
        ]
      : [];
    const workerModules = runsWorker(config.role)
      ? [
          PipelineWorkerModule,
          TelemetryWorkerModule,
          EventsWorkerModule,
          WebhooksWorkerModule,
          DeviceJobsWorkerModule,
          EnginesWorkerModule,
        ]
      : [];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, infrastructure),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            autoLogging: { ignore: (request) => request.url === '/health' },
            redact: ['req.headers.authorization'],
            // Readable lines on a terminal; JSON lines everywhere else (containers, log shippers).
            transport: process.stdout.isTTY
              ? { target: 'pino-pretty', options: { singleLine: true } }
              : undefined,
          },
        }),
        DatabaseModule,
        MessagingModule,
        QueuesModule,
        HealthModule,
        AuthModule,
        ArtifactStorageModule,
        ...apiModules,
        ...workerModules,
        // The demo needs both roles in one process (model pipeline, enrolment, embedded broker).
        ...(config.role === 'all' && config.demo ? [DemoModule] : []),
      ],
      providers: [
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: ZodSerializerInterceptor },
        { provide: APP_FILTER, useClass: ApiErrorFilter },
      ],
    };
  }
}
