import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { type Queue } from 'bullmq';
import { advanceDeduplicationId, type AdvanceJobData, RolloutJobName, RolloutQueue } from './rollout-queue';

/**
 * Asks for a step of a rollout. Deduplicated per rollout with `keepLastIfActive`: while a step runs, further
 * requests collapse into one more step after it, so a change that arrives during a step is never lost and
 * steps of one rollout never run side by side, on any replica. Requests made while one for the same rollout is
 * being added share one more request, added after it: that one is sent after their changes were recorded, so the
 * step it asks for sees them (hundreds of devices reporting at once make two Redis calls, not hundreds).
 */
@Injectable()
export class RolloutTriggers {
  /** Per rollout: the request being added, and the one that follows it (shared by everyone who asked since). */
  private readonly requests = new Map<string, { adding: Promise<void>; next?: Promise<void> }>();

  constructor(@InjectQueue(RolloutQueue.Engine) private readonly queue: Queue<AdvanceJobData>) {}

  advance(rolloutId: string): Promise<void> {
    const requests = this.requests.get(rolloutId);
    if (requests === undefined) return this.start(rolloutId);
    requests.next ??= requests.adding.then(
      () => this.start(rolloutId),
      () => this.start(rolloutId),
    );
    return requests.next;
  }

  private start(rolloutId: string): Promise<void> {
    const adding = this.add(rolloutId);
    const requests = { adding };
    this.requests.set(rolloutId, requests);
    const done = () => {
      if (this.requests.get(rolloutId) === requests) this.requests.delete(rolloutId);
    };
    adding.then(done, done);
    return adding;
  }

  private async add(rolloutId: string): Promise<void> {
    await this.queue.add(
      RolloutJobName.Advance,
      { rolloutId },
      {
        deduplication: { id: advanceDeduplicationId(rolloutId), keepLastIfActive: true },
        attempts: 5,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: true,
        removeOnFail: 100,
      },
    );
  }
}
