/** The worker's webhook queues: the dispatcher (repeatable) and one job per delivery. */
export const WEBHOOK_DISPATCH_QUEUE = 'webhook-dispatch';
export const WEBHOOK_DISPATCH_JOB = 'dispatch';
/** How often the dispatcher turns newly stored events into deliveries. */
export const WEBHOOK_DISPATCH_EVERY_MS = 1000;

export const WEBHOOK_DELIVERY_QUEUE = 'webhook-delivery';
export const WEBHOOK_DELIVERY_JOB = 'deliver';

export interface WebhookDeliveryJobData {
  deliveryId: number;
}

/** One BullMQ job per delivery row: enqueueing the same delivery twice does nothing. */
export const deliveryJobId = (deliveryId: number): string => `delivery-${deliveryId}`;
