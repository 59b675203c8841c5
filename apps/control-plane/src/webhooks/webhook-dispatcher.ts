import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { type Queue } from 'bullmq';
import { type AppConfig, type WebhookSettings } from '../config/app-config';
import { type WebhookEventType } from '../database/schema';
import { APP_CONFIG } from '../config/config.module';
import { EventsQueryRepository } from '../events/events-query.repository';
import { STREAM_SETTLE_MS } from '../events/event-stream.service';
import { RolloutEventsRepository } from '../rollouts/rollout-events.repository';
import { eventFilterOf, receivesEmotionEvents, receivesRolloutEvents } from './webhook-filter';
import {
  deliveryJobId,
  WEBHOOK_DELIVERY_JOB,
  WEBHOOK_DELIVERY_QUEUE,
  type WebhookDeliveryJobData,
} from './webhook-queue';
import { WebhooksRepository } from './webhooks.repository';

const DISPATCH_PAGE = 500;

/**
 * Turns stored events into deliveries: for each enabled webhook, the events after its cursor that match its
 * filter become delivery rows (unique per webhook and event) and BullMQ jobs (one per row, by id), then the
 * cursor moves on. Events are taken only once settled, like the event stream, so none is skipped. Emotion
 * events and rollout events each have their own cursor.
 */
@Injectable()
export class WebhookDispatcher {
  private readonly settings: WebhookSettings;

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly events: EventsQueryRepository,
    private readonly rolloutEvents: RolloutEventsRepository,
    @InjectQueue(WEBHOOK_DELIVERY_QUEUE) private readonly deliveries: Queue<WebhookDeliveryJobData>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.settings = config.webhooks;
  }

  /** One pass over every enabled webhook; returns how many deliveries it queued. */
  async dispatch(): Promise<number> {
    let queued = 0;
    for (const webhook of await this.webhooks.listEnabled()) {
      if (receivesEmotionEvents(webhook.filter)) {
        const filter = eventFilterOf(webhook.filter);
        queued += await this.dispatchKind(webhook.id, 'emotion-event', webhook.cursorEventId, (cursor) =>
          this.events.page(filter, cursor, DISPATCH_PAGE, STREAM_SETTLE_MS),
        );
      }
      if (receivesRolloutEvents(webhook.filter)) {
        queued += await this.dispatchKind(webhook.id, 'rollout', webhook.rolloutCursorEventId, (cursor) =>
          this.rolloutEvents.page({ afterId: cursor, limit: DISPATCH_PAGE, settledMs: STREAM_SETTLE_MS }),
        );
      }
    }
    return queued;
  }

  private async dispatchKind(
    webhookId: string,
    kind: WebhookEventType,
    startCursor: number,
    page: (cursor: number) => Promise<Array<{ id: number }>>,
  ): Promise<number> {
    let queued = 0;
    let cursor = startCursor;
    for (;;) {
      const events = await page(cursor);
      const last = events[events.length - 1];
      if (!last) break;
      const created = await this.webhooks.addDeliveries(
        webhookId,
        kind,
        events.map((event) => event.id),
        last.id,
      );
      await this.enqueue(created);
      queued += created.length;
      cursor = last.id;
      if (events.length < DISPATCH_PAGE) break;
    }
    return queued;
  }

  /** Queues pending deliveries whose jobs may have been lost (Redis flushed); existing jobs are kept. */
  async requeuePending(): Promise<void> {
    await this.enqueue((await this.webhooks.pendingDeliveryIds(10_000)).map((row) => row.id));
  }

  private async enqueue(deliveryIds: readonly number[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.deliveries.addBulk(
      deliveryIds.map((deliveryId) => ({
        name: WEBHOOK_DELIVERY_JOB,
        data: { deliveryId },
        opts: {
          jobId: deliveryJobId(deliveryId),
          attempts: this.settings.deliveryAttempts,
          backoff: { type: 'exponential', delay: this.settings.backoffMs },
          removeOnComplete: 1000,
          removeOnFail: 1000,
        },
      })),
    );
  }
}
