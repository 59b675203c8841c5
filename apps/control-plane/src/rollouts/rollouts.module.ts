import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DeviceJobsModule } from '../device-jobs/device-jobs.module';
import { PipelineModule } from '../pipeline/pipeline.module';
import { DeviceGateFacts } from './device-gate-facts';
import { RolloutActions } from './rollout-actions';
import { RolloutEngine } from './rollout-engine';
import { RolloutEngineProcessor, RolloutTickScheduler } from './rollout-engine.processor';
import { RolloutEventStream } from './rollout-event-stream';
import { RolloutEventsRepository } from './rollout-events.repository';
import { RolloutQueue } from './rollout-queue';
import { RolloutTargetsRepository } from './rollout-targets.repository';
import { RolloutTriggers } from './rollout-triggers';
import { RolloutWakeups } from './rollout-wakeups';
import { RolloutsController } from './rollouts.controller';
import { RolloutsRepository } from './rollouts.repository';
import { RolloutsService } from './rollouts.service';

/**
 * Staged, health-gated rollouts (api role: the engine drives the device-jobs layer, which lives there). The
 * engine's queue is processed by every api replica; steps of one rollout are serialised by deduplication and
 * the rollout's row lock.
 */
@Module({
  imports: [DeviceJobsModule, PipelineModule, BullModule.registerQueue({ name: RolloutQueue.Engine })],
  controllers: [RolloutsController],
  providers: [
    RolloutsRepository,
    RolloutTargetsRepository,
    RolloutEventsRepository,
    DeviceGateFacts,
    RolloutActions,
    RolloutTriggers,
    RolloutEngine,
    RolloutEngineProcessor,
    RolloutTickScheduler,
    RolloutWakeups,
    RolloutEventStream,
    RolloutsService,
  ],
})
export class RolloutsModule {}
