import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type Queue } from 'bullmq';
import { type DeviceJob, type DeviceJobChange, isTerminalJobStatus } from '../device-jobs/device-job';
import { DeviceJobChanges } from '../device-jobs/device-job-changes';
import { PipelineJobsRepository } from '../pipeline/pipeline-jobs.repository';
import {
  BUILD_ENGINE_OPERATION,
  engineBuildJobId,
  type EngineBuildJobData,
  EngineBuildQueue,
} from './engine-build-queue';

/** Percent of the pipeline job for where the builder is (the processor sets 100 when the engine is stored). */
export function progressOf(job: DeviceJob): number | undefined {
  const { step, buildStage, progress } = job.statusDetails;
  if (buildStage === 'UPLOADING') return 80;
  if (buildStage === 'BUILDING') return 40;
  if (step === 'VERIFYING') return 35;
  if (step === 'DOWNLOADING' && progress && progress.bytesTotal > 0) {
    return 10 + Math.round((25 * progress.bytesDone) / progress.bytesTotal);
  }
  return undefined;
}

/** `builder jetson-7: IN_PROGRESS BUILDING` / `builder jetson-7: FAILED (trtexec exited with code 1)`. */
export function describeChange(job: DeviceJob): string {
  const { step, buildStage, progress, reason } = job.statusDetails;
  const where = buildStage ?? step;
  const percent =
    step === 'DOWNLOADING' && progress && progress.bytesTotal > 0
      ? ` ${Math.round((100 * progress.bytesDone) / progress.bytesTotal)} % of ${progress.bytesTotal} bytes`
      : '';
  return (
    `builder ${job.deviceId}: ${job.status}${where ? ` ${where}` : ''}${percent}` +
    (reason && isTerminalJobStatus(job.status) ? ` (${reason})` : '')
  );
}

/**
 * Follows `build-engine` device jobs as this process sees them change (DeviceJobChanges): writes each step to
 * the build's pipeline job (logs, progress), and wakes the parked BullMQ job when the device job ends, so the
 * build concludes at once instead of at its next poll. It runs in both roles (device updates are applied in the
 * api, time-outs in the worker) and wakes the job through Redis, so the processor may run in another process;
 * a change lost between commit and announcement is picked up by the processor's polling.
 */
@Injectable()
export class EngineBuildProgressListener implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly changes: DeviceJobChanges,
    private readonly pipelineJobs: PipelineJobsRepository,
    @InjectQueue(EngineBuildQueue.Builds) private readonly queue: Queue<EngineBuildJobData>,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.changes.subscribe((change) => this.onChange(change));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private async onChange({ job }: DeviceJobChange): Promise<void> {
    const cacheKey = job.parameters.cacheKey;
    if (job.operation !== BUILD_ENGINE_OPERATION || typeof cacheKey !== 'string') return;
    const id = engineBuildJobId(cacheKey);
    await this.pipelineJobs.appendLog(id, describeChange(job));
    const percent = progressOf(job);
    if (percent !== undefined) await this.pipelineJobs.setProgress(id, percent);
    if (!isTerminalJobStatus(job.status)) return;
    const parked = await this.queue.getJob(id);
    // It may have left the delayed state in between (a pass running): that pass reads the job anyway.
    if (parked && (await parked.isDelayed())) await parked.promote().catch(() => undefined);
  }
}
