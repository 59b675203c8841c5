import { InjectQueue, Processor } from '@nestjs/bullmq';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type Job, type Queue } from 'bullmq';
import { RolloutEngine } from './rollout-engine';
import { type AdvanceJobData, RolloutJobName, RolloutQueue, ROLLOUT_TICK_EVERY_MS } from './rollout-queue';

/**
 * Runs the engine's jobs: steps of rollouts (several rollouts at once, one step per rollout) and the tick. At
 * shutdown it stops taking jobs and lets the running step finish first (`onModuleDestroy`, before the HTTP
 * server and MQTT close): a step issues assignments, which need both.
 */
@Processor(RolloutQueue.Engine, { concurrency: 4 })
export class RolloutEngineProcessor extends LoggedWorkerHost implements OnModuleDestroy {
  constructor(private readonly engine: RolloutEngine) {
    super();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.close();
  }

  async process(job: Job<AdvanceJobData>): Promise<void> {
    switch (job.name as RolloutJobName) {
      case RolloutJobName.Advance:
        await this.engine.advance(job.data.rolloutId);
        return;
      case RolloutJobName.Tick:
        await this.engine.tick();
        return;
    }
  }
}

/** Schedules the tick (one schedule by name, whatever the number of replicas) and runs one at once. */
@Injectable()
export class RolloutTickScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(RolloutQueue.Engine) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      RolloutJobName.Tick,
      { every: ROLLOUT_TICK_EVERY_MS },
      { name: RolloutJobName.Tick, opts: { removeOnComplete: 10, removeOnFail: 100 } },
    );
  }
}
