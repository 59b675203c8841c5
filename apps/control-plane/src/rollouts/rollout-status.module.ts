import { Module } from '@nestjs/common';
import { RolloutStatusRepository } from './rollout-status.repository';

/** Rollout counts for other domains (the fleet summary, the metrics), without the engine. */
@Module({ providers: [RolloutStatusRepository], exports: [RolloutStatusRepository] })
export class RolloutStatusModule {}
