import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ModelsRepository } from '../models/models.repository';
import { JobsController } from './jobs.controller';
import { PipelineJobsRepository } from './pipeline-jobs.repository';
import { PipelineQueue } from './pipeline-queues';
import { PipelineService } from './pipeline.service';

/** The pipeline's queues and durable job records; used by the api (to start jobs) and the worker. */
const pipelineQueues = BullModule.registerQueue(
  { name: PipelineQueue.Convert },
  { name: PipelineQueue.Benchmark },
);

@Module({
  imports: [pipelineQueues],
  providers: [PipelineService, PipelineJobsRepository, ModelsRepository],
  exports: [pipelineQueues, PipelineService, PipelineJobsRepository, ModelsRepository],
})
export class PipelineModule {}

/** `GET /jobs/:id` (api role). */
@Module({ imports: [PipelineModule], controllers: [JobsController] })
export class JobsHttpModule {}
