import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { PipelineJobsRepository } from '../pipeline/pipeline-jobs.repository';
import { engineBuildJobId, EngineBuildQueue } from './engine-build-queue';
import { EngineBuildsRepository } from './engine-builds.repository';
import { EngineBuildsService } from './engine-builds.service';

/**
 * At start, puts every build the database says is unfinished back into BullMQ (a no-op for the ones Redis
 * still holds), so a restart or a Redis that lost its data loses no build and starts none twice.
 */
@Injectable()
export class EngineBuildResumer implements OnApplicationBootstrap {
  private readonly logger = new Logger(EngineBuildResumer.name);

  constructor(
    private readonly builds: EngineBuildsRepository,
    private readonly pipelineJobs: PipelineJobsRepository,
    private readonly service: EngineBuildsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const unfinished = await this.builds.unfinished();
    for (const build of unfinished) {
      await this.pipelineJobs.insertIfAbsent({
        id: engineBuildJobId(build.cacheKey),
        queue: EngineBuildQueue.Builds,
        versionId: build.versionId,
        input: { cacheKey: build.cacheKey, target: build.target },
      });
      await this.service.ensureQueued(build.cacheKey);
    }
    if (unfinished.length > 0) this.logger.log(`re-queued ${unfinished.length} unfinished engine build(s)`);
  }
}
