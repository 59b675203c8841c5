import { type Job, UnrecoverableError } from 'bullmq';
import { type PipelineJobsRepository } from './pipeline-jobs.repository';
import { PIPELINE_JOB_ATTEMPTS } from './pipeline-queues';

/** What a step may tell the outside while it runs: both BullMQ (Bull Board) and `pipeline_jobs` see it. */
export interface JobReporter {
  log(line: string): Promise<void>;
  /** 0..100 */
  progress(percent: number): Promise<void>;
}

/**
 * Runs one attempt of a pipeline job, mirroring its state into `pipeline_jobs`: active, progress, logs, then
 * completed with the result, or failed with the reason (final when retries cannot help or are used up).
 */
export async function runTrackedJob<T>(
  job: Job,
  repository: PipelineJobsRepository,
  work: (reporter: JobReporter) => Promise<T>,
): Promise<T> {
  const id = job.id ?? '';
  const attempt = job.attemptsMade + 1;
  await repository.markActive(id, attempt);
  const reporter: JobReporter = {
    log: async (line) => {
      await job.log(line);
      await repository.appendLog(id, line);
    },
    progress: async (percent) => {
      const clamped = Math.max(0, Math.min(100, Math.round(percent)));
      await job.updateProgress(clamped);
      await repository.setProgress(id, clamped);
    },
  };
  try {
    const result = await work(reporter);
    await repository.markCompleted(id, result);
    return result;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const final =
      error instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? PIPELINE_JOB_ATTEMPTS);
    await reporter.log(`attempt ${attempt} failed: ${reason}`).catch(() => undefined);
    await repository.markFailed(id, reason, final);
    throw error;
  }
}
