/** The BullMQ queues of the model pipeline. */
export enum PipelineQueue {
  Convert = 'model-convert',
  Benchmark = 'model-benchmark',
  Quantize = 'model-quantize',
}

/** Job names (one per queue). */
export enum PipelineJobName {
  Convert = 'convert',
  Benchmark = 'benchmark',
  Quantize = 'quantize',
}

export interface VersionJobData {
  versionId: string;
}

/** `quantize`: the eval-set accuracy (percentage points) the INT8 plan may lose against FP32. */
export interface QuantizeJobData extends VersionJobData {
  budgetPoints?: number;
}

export const PIPELINE_JOB_ATTEMPTS = 3;

/**
 * Deterministic job ids: one job per (step, version), so enqueueing twice (a retried request, a worker resuming
 * from the database) never runs a step twice. BullMQ ids may not contain ':'.
 */
export function pipelineJobId(name: PipelineJobName, versionId: string): string {
  return `${name}-${versionId}`;
}
