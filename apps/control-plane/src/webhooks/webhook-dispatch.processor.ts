import { InjectQueue, Processor } from '@nestjs/bullmq';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type Queue } from 'bullmq';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WEBHOOK_DISPATCH_EVERY_MS, WEBHOOK_DISPATCH_JOB, WEBHOOK_DISPATCH_QUEUE } from './webhook-queue';

/** Runs the dispatcher pass (repeatable job, worker role). */
@Processor(WEBHOOK_DISPATCH_QUEUE)
export class WebhookDispatchProcessor extends LoggedWorkerHost {
  constructor(private readonly dispatcher: WebhookDispatcher) {
    super();
  }

  process(): Promise<number> {
    return this.dispatcher.dispatch();
  }
}

/** At worker start: schedules the dispatcher (one schedule per id) and re-queues pending deliveries. */
@Injectable()
export class WebhookDispatchScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(WEBHOOK_DISPATCH_QUEUE) private readonly queue: Queue,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      WEBHOOK_DISPATCH_JOB,
      { every: WEBHOOK_DISPATCH_EVERY_MS },
      { name: WEBHOOK_DISPATCH_JOB, opts: { removeOnComplete: 10, removeOnFail: 100 } },
    );
    await this.dispatcher.requeuePending();
  }
}
