import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { type Queue } from 'bullmq';
import { advanceDeduplicationId, type AdvanceJobData, RolloutJobName, RolloutQueue } from './rollout-queue';

/**
 * Asks for a step of a rollout. Deduplicated per rollout with `keepLastIfActive`: while a step runs, further
 * requests collapse into one more step after it, so a change that arrives during a step is never lost and
 * steps of one rollout never run side by side, on any replica.
 */
@Injectable()
export class RolloutTriggers {
  constructor(@InjectQueue(RolloutQueue.Engine) private readonly queue: Queue<AdvanceJobData>) {}

  async advance(rolloutId: string): Promise<void> {
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
