import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ModelsRepository } from '../models/models.repository';
import { JobsController } from './jobs.controller';
import { PipelineJobsRepository } from './pipeline-jobs.repository';
import { PipelineQueue } from './pipeline-queues';
import { PipelineService } from './pipeline.service';
import { QuantizationController } from './quantization.controller';
import { QuantizationRequests } from './quantization-requests.service';

/** The pipeline's queues and durable job records; used by the api (to start jobs) and the worker. */
const pipelineQueues = BullModule.registerQueue(
  { name: PipelineQueue.Convert },
  { name: PipelineQueue.Benchmark },
  { name: PipelineQueue.Quantize },
);

@Module({
  imports: [pipelineQueues],
  providers: [PipelineService, PipelineJobsRepository, ModelsRepository],
  exports: [pipelineQueues, PipelineService, PipelineJobsRepository, ModelsRepository],
})
export class PipelineModule {}

/** `GET /jobs/:id` and `POST /models/:name/versions/:version/quantize` (api role). */
@Module({
  imports: [PipelineModule],
  controllers: [JobsController, QuantizationController],
  providers: [QuantizationRequests],
})
export class JobsHttpModule {}
