import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { PipelineQueue } from '../pipeline/pipeline-queues';
import { TELEMETRY_MAINTENANCE_QUEUE } from '../telemetry/telemetry-maintenance';
import { TelemetryModule } from '../telemetry/telemetry.module';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics-registry';
import { EVENT_RETENTION_QUEUE } from '../events/event-retention';
import { WEBHOOK_DELIVERY_QUEUE, WEBHOOK_DISPATCH_QUEUE } from '../webhooks/webhook-queue';
import { RolloutQueue } from '../rollouts/rollout-queue';
import { RolloutStatusModule } from '../rollouts/rollout-status.module';

/** `GET /metrics` for Prometheus (api role). */
@Module({
  imports: [
    EventsModule,
    TelemetryModule,
    RolloutStatusModule,
    BullModule.registerQueue(
      { name: TELEMETRY_MAINTENANCE_QUEUE },
      { name: PipelineQueue.Convert },
      { name: PipelineQueue.Benchmark },
      { name: EVENT_RETENTION_QUEUE },
      { name: WEBHOOK_DISPATCH_QUEUE },
      { name: WEBHOOK_DELIVERY_QUEUE },
      { name: RolloutQueue.Engine },
    ),
  ],
  controllers: [MetricsController],
  providers: [MetricsRegistry],
})
export class MetricsModule {}
