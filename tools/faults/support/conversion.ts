import { type Fleet } from './fleet';
import { type ModelFiles, smallModelFiles } from './test-model';
import { waitFor } from './wait';

/**
 * A network whose conversion (transforms, ONNX and Caffe export, numeric verification) takes seconds, long enough
 * to be interrupted, but a fraction of tiny YOLO's (six stages up to 512 filters on a 320x320 input).
 */
export function conversionModelFiles(seed: number): ModelFiles {
  return smallModelFiles([16, 32, 64, 128, 256, 512], seed, 320);
}

export interface RunningConversion {
  readonly model: string;
  readonly version: number;
  readonly versionId: string;
  readonly convertJobId: string;
}

/** Uploads a version and waits until a worker has begun converting it (the job logs `loading …`). */
export async function startConversion(fleet: Fleet, model: string, seed: number): Promise<RunningConversion> {
  const created = await fleet.client.uploadModelVersion(model, conversionModelFiles(seed));
  const job = await waitFor(
    `conversion of ${model}@${created.version} started`,
    () => fleet.client.pipelineJob(created.jobId),
    (view) => view.status === 'completed' || view.logs.some((line) => line.startsWith('loading ')),
    { timeoutMs: 60_000, intervalMs: 20 },
  );
  if (job.status === 'completed')
    throw new Error(`${model}@${created.version} converted before the fault could hit it`);
  return { model, version: created.version, versionId: created.id, convertJobId: created.jobId };
}

/** Waits until the version is ready (or failed) and says which, with the convert job's attempts. */
export async function conversionOutcome(
  fleet: Fleet,
  conversion: RunningConversion,
  timeoutMs: number,
): Promise<{ status: string; reason: string | null }> {
  const detail = await waitFor(
    `${conversion.model}@${conversion.version} through the pipeline`,
    () => fleet.client.modelVersion(conversion.model, conversion.version),
    (version) => version.status === 'ready' || version.status === 'failed',
    { timeoutMs, intervalMs: 500 },
  );
  return { status: detail.status, reason: detail.statusReason };
}

/** The convert job's status in the database (readable while the api is down). */
export async function convertJobStatus(fleet: Fleet, conversion: RunningConversion): Promise<string> {
  return fleet.postgres.query(
    async (client) =>
      (
        await client.query<{ status: string }>('select status from pipeline_jobs where id = $1', [
          conversion.convertJobId,
        ])
      ).rows[0]?.status ?? 'missing',
  );
}
