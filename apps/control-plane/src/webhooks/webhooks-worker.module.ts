import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { EventsQueryRepository } from '../events/events-query.repository';
import { RolloutEventsRepository } from '../rollouts/rollout-events.repository';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookDispatchProcessor, WebhookDispatchScheduler } from './webhook-dispatch.processor';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WEBHOOK_DELIVERY_QUEUE, WEBHOOK_DISPATCH_QUEUE } from './webhook-queue';
import { WebhooksRepository } from './webhooks.repository';

/** Webhook dispatch and delivery (worker role). */
@Module({
  imports: [BullModule.registerQueue({ name: WEBHOOK_DISPATCH_QUEUE }, { name: WEBHOOK_DELIVERY_QUEUE })],
  providers: [
    WebhooksRepository,
    EventsQueryRepository,
    RolloutEventsRepository,
    WebhookDispatcher,
    WebhookDispatchProcessor,
    WebhookDispatchScheduler,
    WebhookDeliveryProcessor,
  ],
})
export class WebhooksWorkerModule {}
