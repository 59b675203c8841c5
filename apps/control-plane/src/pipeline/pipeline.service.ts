import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, NotFoundException } from '@nestjs/common';
import { type Queue } from 'bullmq';
import { type PipelineJobRow } from '../database/schema';
import { type PipelineJobDto } from './pipeline-job.dto';
import { PipelineJobsRepository } from './pipeline-jobs.repository';
import {
  PIPELINE_JOB_ATTEMPTS,
  PipelineJobName,
  pipelineJobId,
  PipelineQueue,
  type VersionJobData,
} from './pipeline-queues';

/**
 * Starts pipeline steps: each is first recorded in `pipeline_jobs` (the source of truth), then added to its
 * BullMQ queue under a deterministic id. Both are idempotent, so any process may (re)start a step at any time.
 */
@Injectable()
export class PipelineService {
  private readonly queues: Record<PipelineJobName, Queue<VersionJobData>>;

  constructor(
    private readonly jobs: PipelineJobsRepository,
    @InjectQueue(PipelineQueue.Convert) convert: Queue<VersionJobData>,
    @InjectQueue(PipelineQueue.Benchmark) benchmark: Queue<VersionJobData>,
    @InjectQueue(PipelineQueue.Quantize) quantize: Queue<VersionJobData>,
  ) {
    this.queues = {
      [PipelineJobName.Convert]: convert,
      [PipelineJobName.Benchmark]: benchmark,
      [PipelineJobName.Quantize]: quantize,
    };
  }

  /** upload → convert → benchmark → ready: starts the chain's first step; returns its job id. */
  startChain(versionId: string): Promise<string> {
    return this.enqueue(PipelineJobName.Convert, versionId);
  }

  /** Records and queues step `name` of a version; `parameters` (e.g. the quantize budget) join the job data. */
  async enqueue(
    name: PipelineJobName,
    versionId: string,
    parameters: Record<string, unknown> = {},
  ): Promise<string> {
    const id = pipelineJobId(name, versionId);
    const queue = this.queues[name];
    const data = { ...parameters, versionId };
    await this.jobs.insertIfAbsent({ id, queue: queue.name, versionId, input: data });
    await this.addToQueue(name, id, data);
    return id;
  }

  /** Puts every job the database says is unfinished back into Redis (a no-op for jobs Redis still has). */
  async resumeUnfinished(): Promise<number> {
    const rows = await this.jobs.unfinished();
    let requeued = 0;
    for (const row of rows) {
      // Engine builds share `pipeline_jobs`; src/engines resumes them itself.
      const name = Object.values(PipelineJobName).find((candidate) => row.id.startsWith(`${candidate}-`));
      if (name && row.versionId) {
        const input = typeof row.input === 'object' && row.input !== null ? row.input : {};
        await this.addToQueue(name, row.id, { ...input, versionId: row.versionId });
        requeued += 1;
      }
    }
    return requeued;
  }

  async get(id: string): Promise<PipelineJobDto> {
    const row = await this.jobs.find(id);
    if (!row) throw new NotFoundException(`no pipeline job with id "${id}"`);
    return toDto(row);
  }

  jobsOfVersion(versionId: string): Promise<PipelineJobRow[]> {
    return this.jobs.ofVersion(versionId);
  }

  private async addToQueue(name: PipelineJobName, id: string, data: VersionJobData): Promise<void> {
    await this.queues[name].add(name, data, {
      jobId: id,
      attempts: PIPELINE_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    });
  }
}

function toDto(row: PipelineJobRow): PipelineJobDto {
  return {
    id: row.id,
    queue: row.queue,
    versionId: row.versionId,
    status: row.status,
    progress: row.progress,
    attempts: row.attempts,
    logs: row.logs,
    result: (row.result ?? null) as Record<string, unknown> | null,
    failedReason: row.failedReason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
