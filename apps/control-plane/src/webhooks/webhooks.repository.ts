import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, lt, max, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import {
  emotionEvents,
  rolloutEvents,
  type WebhookDeliveryRow,
  webhookDeliveries,
  type WebhookEventType,
  type WebhookFilter,
  type WebhookRow,
  webhooks,
} from '../database/schema';

export interface NewWebhook {
  id: string;
  url: string;
  secret: string;
  filter: WebhookFilter;
  createdBy: string | undefined;
}

/** Webhooks, their delivery log and the bookkeeping of automatic disabling. */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Creates the webhook; it receives events stored from now on (its cursors start at the newest events). */
  async create(webhook: NewWebhook): Promise<WebhookRow> {
    const [newest] = await this.database.db.select({ id: max(emotionEvents.id) }).from(emotionEvents);
    const [newestRollout] = await this.database.db.select({ id: max(rolloutEvents.id) }).from(rolloutEvents);
    const [row] = await this.database.db
      .insert(webhooks)
      .values({
        ...webhook,
        cursorEventId: newest?.id ?? 0,
        rolloutCursorEventId: newestRollout?.id ?? 0,
      })
      .returning();
    if (!row) throw new Error(`webhook ${webhook.id} was not created`);
    return row;
  }

  list(): Promise<WebhookRow[]> {
    return this.database.db.select().from(webhooks).orderBy(asc(webhooks.createdAt), asc(webhooks.id));
  }

  listEnabled(): Promise<WebhookRow[]> {
    return this.database.db.select().from(webhooks).where(eq(webhooks.enabled, true));
  }

  async find(id: string): Promise<WebhookRow | undefined> {
    const [row] = await this.database.db.select().from(webhooks).where(eq(webhooks.id, id));
    return row;
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.database.db
      .delete(webhooks)
      .where(eq(webhooks.id, id))
      .returning({ id: webhooks.id });
    return rows.length > 0;
  }

  /** Re-enables a webhook: clears the failure count and the reason. */
  async enable(id: string): Promise<WebhookRow | undefined> {
    const [row] = await this.database.db
      .update(webhooks)
      .set({ enabled: true, disabledReason: null, consecutiveFailures: 0 })
      .where(eq(webhooks.id, id))
      .returning();
    return row;
  }

  /**
   * Records deliveries of `eventIds` of `kind` (already stored ones are skipped) and moves the webhook's cursor
   * of that kind to `cursorEventId`, in one transaction. Returns the ids of the new delivery rows.
   */
  async addDeliveries(
    webhookId: string,
    kind: WebhookEventType,
    eventIds: readonly number[],
    cursorEventId: number,
  ): Promise<number[]> {
    return this.database.db.transaction(async (tx) => {
      let created: number[] = [];
      if (eventIds.length > 0) {
        const rows = await tx
          .insert(webhookDeliveries)
          .values(eventIds.map((eventId) => ({ webhookId, kind, eventId })))
          .onConflictDoNothing()
          .returning({ id: webhookDeliveries.id });
        created = rows.map((row) => row.id);
      }
      await tx
        .update(webhooks)
        .set(
          kind === 'rollout'
            ? { rolloutCursorEventId: sql`greatest(${webhooks.rolloutCursorEventId}, ${cursorEventId})` }
            : { cursorEventId: sql`greatest(${webhooks.cursorEventId}, ${cursorEventId})` },
        )
        .where(eq(webhooks.id, webhookId));
      return created;
    });
  }

  /** Deliveries still pending (e.g. after Redis lost its jobs), to enqueue again. */
  pendingDeliveryIds(limit: number): Promise<Array<{ id: number }>> {
    return this.database.db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.status, 'pending'))
      .orderBy(asc(webhookDeliveries.id))
      .limit(limit);
  }

  async findDelivery(
    deliveryId: number,
  ): Promise<{ delivery: WebhookDeliveryRow; webhook: WebhookRow } | undefined> {
    const [row] = await this.database.db
      .select({ delivery: webhookDeliveries, webhook: webhooks })
      .from(webhookDeliveries)
      .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
      .where(eq(webhookDeliveries.id, deliveryId));
    return row;
  }

  async recordSuccess(deliveryId: number, webhookId: string, statusCode: number): Promise<void> {
    await this.database.db.transaction(async (tx) => {
      await tx
        .update(webhookDeliveries)
        .set({
          status: 'delivered',
          attempts: sql`${webhookDeliveries.attempts} + 1`,
          lastStatusCode: statusCode,
          lastError: null,
          lastAttemptAt: sql`now()`,
          deliveredAt: sql`now()`,
        })
        .where(eq(webhookDeliveries.id, deliveryId));
      await tx.update(webhooks).set({ consecutiveFailures: 0 }).where(eq(webhooks.id, webhookId));
    });
  }

  /**
   * Records a failed attempt (`final`: no retry follows, the delivery is failed) and counts it against the
   * webhook, disabling it with a reason once `disableAfter` attempts in a row have failed.
   */
  async recordFailure(
    deliveryId: number,
    webhookId: string,
    failure: { statusCode: number | null; error: string; final: boolean; disableAfter: number },
  ): Promise<void> {
    await this.database.db.transaction(async (tx) => {
      await tx
        .update(webhookDeliveries)
        .set({
          status: failure.final ? 'failed' : 'pending',
          attempts: sql`${webhookDeliveries.attempts} + 1`,
          lastStatusCode: failure.statusCode,
          lastError: failure.error,
          lastAttemptAt: sql`now()`,
        })
        .where(eq(webhookDeliveries.id, deliveryId));
      await tx
        .update(webhooks)
        .set({
          consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1`,
          enabled: sql`${webhooks.enabled} and ${webhooks.consecutiveFailures} + 1 < ${failure.disableAfter}`,
          disabledReason: sql`case when ${webhooks.enabled} and ${webhooks.consecutiveFailures} + 1 >= ${failure.disableAfter}
            then ${`disabled after ${failure.disableAfter} consecutive failed attempts; last: ${failure.error}`}
            else ${webhooks.disabledReason} end`,
        })
        .where(eq(webhooks.id, webhookId));
    });
  }

  /** Marks a pending delivery failed without an attempt (its webhook is disabled or gone). */
  async abandon(deliveryId: number, reason: string): Promise<void> {
    await this.database.db
      .update(webhookDeliveries)
      .set({ status: 'failed', lastError: reason })
      .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending')));
  }

  /** The webhook's deliveries, newest first, before delivery id `before` (keyset). */
  deliveries(webhookId: string, before: number | undefined, limit: number): Promise<WebhookDeliveryRow[]> {
    return this.database.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.webhookId, webhookId),
          before === undefined ? undefined : lt(webhookDeliveries.id, before),
        ),
      )
      .orderBy(desc(webhookDeliveries.id))
      .limit(limit);
  }
}
