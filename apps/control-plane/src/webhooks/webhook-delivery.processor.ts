import { Processor } from '@nestjs/bullmq';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { Inject } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { type AppConfig, type WebhookSettings } from '../config/app-config';
import { type WebhookEventType } from '../database/schema';
import { APP_CONFIG } from '../config/config.module';
import { EventsQueryRepository } from '../events/events-query.repository';
import { toEventDto } from '../events/events.service';
import { RolloutEventsRepository, toRolloutEventDto } from '../rollouts/rollout-events.repository';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signDelivery, TIMESTAMP_HEADER } from './webhook-signature';
import { WEBHOOK_DELIVERY_QUEUE, type WebhookDeliveryJobData } from './webhook-queue';
import { WebhooksRepository } from './webhooks.repository';

/**
 * Delivers one event to one webhook: a signed JSON POST. A 2xx answer completes the delivery; anything else
 * (status, network error, time-out) is recorded in the delivery log and thrown, so BullMQ retries it with
 * exponential backoff until the attempts are used up.
 */
@Processor(WEBHOOK_DELIVERY_QUEUE)
export class WebhookDeliveryProcessor extends LoggedWorkerHost {
  private readonly settings: WebhookSettings;

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly events: EventsQueryRepository,
    private readonly rolloutEvents: RolloutEventsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super();
    this.settings = config.webhooks;
  }

  async process(job: Job<WebhookDeliveryJobData>): Promise<void> {
    const { deliveryId } = job.data;
    const found = await this.webhooks.findDelivery(deliveryId);
    if (!found) throw new UnrecoverableError(`delivery ${deliveryId} no longer exists (webhook deleted)`);
    const { delivery, webhook } = found;
    if (delivery.status !== 'pending') return;
    if (!webhook.enabled) {
      await this.webhooks.abandon(
        deliveryId,
        `webhook disabled: ${webhook.disabledReason ?? 'by an operator'}`,
      );
      throw new UnrecoverableError(`webhook ${webhook.id} is disabled`);
    }
    const payload = await this.payloadOf(delivery.kind, delivery.eventId);
    if (payload === undefined) {
      await this.webhooks.abandon(deliveryId, `event ${delivery.eventId} was deleted before delivery`);
      throw new UnrecoverableError(`event ${delivery.eventId} was deleted`);
    }
    const body = JSON.stringify({ deliveryId: String(deliveryId), webhookId: webhook.id, ...payload });
    const timestamp = Math.floor(Date.now() / 1000);
    let statusCode: number | null = null;
    let failure: string;
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'emofleet-webhooks/1',
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signDelivery(webhook.secret, timestamp, body),
          [DELIVERY_HEADER]: String(deliveryId),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      statusCode = response.status;
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) {
        await this.webhooks.recordSuccess(deliveryId, webhook.id, response.status);
        return;
      }
      failure = `receiver answered HTTP ${response.status}`;
    } catch (error) {
      failure = `request failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await this.webhooks.recordFailure(deliveryId, webhook.id, {
      statusCode,
      error: failure,
      final,
      disableAfter: this.settings.disableAfterFailures,
    });
    throw new Error(`delivery ${deliveryId} to ${webhook.url}: ${failure}`);
  }

  /** What a delivery carries: `type` and the event (`event` for emotion events, `rolloutEvent` for rollouts). */
  private async payloadOf(
    kind: WebhookEventType,
    eventId: number,
  ): Promise<Record<string, unknown> | undefined> {
    if (kind === 'rollout') {
      const event = await this.rolloutEvents.findById(eventId);
      return event === undefined ? undefined : { type: kind, rolloutEvent: toRolloutEventDto(event) };
    }
    const event = await this.events.findById(eventId);
    return event ? { type: kind, event: toEventDto(event) } : undefined;
  }
}
