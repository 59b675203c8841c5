import { Injectable, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { BenchmarkProcessor } from './benchmark.processor';
import { ConvertProcessor } from './convert.processor';
import { PipelineModule } from './pipeline.module';
import { PipelineService } from './pipeline.service';
import { QuantizeProcessor } from './quantize.processor';

/** At worker start, re-queues what the database says is unfinished (Redis may have lost it). */
@Injectable()
export class PipelineResumer implements OnApplicationBootstrap {
  private readonly logger = new Logger(PipelineResumer.name);

  constructor(private readonly pipeline: PipelineService) {}

  async onApplicationBootstrap(): Promise<void> {
    const count = await this.pipeline.resumeUnfinished();
    if (count > 0) this.logger.log(`re-queued ${count} unfinished pipeline job(s) from the database`);
  }
}

/** The pipeline's BullMQ processors (worker role only). */
@Module({
  imports: [PipelineModule],
  providers: [ConvertProcessor, BenchmarkProcessor, QuantizeProcessor, PipelineResumer],
})
export class PipelineWorkerModule {}
