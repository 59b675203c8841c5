import { Module } from '@nestjs/common';
import { PipelineModule } from '../pipeline/pipeline.module';
import { ModelsController } from './models.controller';
import { ModelsService } from './models.service';

/** Model versions over HTTP (api role); the data access lives in PipelineModule, shared with the worker. */
@Module({
  imports: [PipelineModule],
  controllers: [ModelsController],
  providers: [ModelsService],
  exports: [ModelsService],
})
export class ModelsModule {}
