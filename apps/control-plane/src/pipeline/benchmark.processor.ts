import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type Job, UnrecoverableError } from 'bullmq';
import { ModelsRepository } from '../models/models.repository';
import { PipelineJobsRepository } from './pipeline-jobs.repository';
import { PipelineQueue, type VersionJobData } from './pipeline-queues';
import { runTrackedJob } from './tracked-job';

/**
 * `benchmark`: runs the native detector (libs/detector `createDetector`) over the version's eval set for FPS,
 * latency p50/p95 and accuracy. libs/detector has no public API yet, so this step fails visibly rather than
 * reporting numbers it did not measure.
 */
@Processor(PipelineQueue.Benchmark)
export class BenchmarkProcessor extends WorkerHost {
  constructor(
    private readonly jobs: PipelineJobsRepository,
    private readonly models: ModelsRepository,
  ) {
    super();
  }

  async process(job: Job<VersionJobData>): Promise<unknown> {
    const { versionId } = job.data;
    try {
      return await runTrackedJob(job, this.jobs, () => {
        throw new UnrecoverableError('detector not built: libs/detector exports no createDetector yet');
      });
    } catch (error) {
      await this.models.setStatus(versionId, 'failed', `benchmark: ${(error as Error).message}`);
      throw error;
    }
  }
}
