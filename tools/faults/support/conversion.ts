import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { type Fleet } from './fleet';
import { type ModelFiles } from './test-model';
import { waitFor } from './wait';

const MODELS = resolve(__dirname, '../../../libs/darknet/models');

/** Tiny YOLO v2 (the paper's expression network): its conversion takes long enough to be interrupted. */
export function tinyYoloFiles(seed: number): ModelFiles {
  const cfg = readFileSync(resolve(MODELS, 'yolov2-tiny-expression.cfg'), 'utf8');
  const network = parseCfg(cfg, 'yolov2-tiny-expression.cfg');
  return {
    cfg,
    weights: Buffer.from(serialiseWeights(network, randomWeights(network, seed))),
    names: readFileSync(resolve(MODELS, 'expressions.names'), 'utf8'),
  };
}

export interface RunningConversion {
  readonly model: string;
  readonly version: number;
  readonly versionId: string;
  readonly convertJobId: string;
}

/** Uploads a tiny YOLO version and waits until a worker has begun converting it (the job logs `loading …`). */
export async function startConversion(fleet: Fleet, model: string, seed: number): Promise<RunningConversion> {
  const created = await fleet.client.uploadModelVersion(model, tinyYoloFiles(seed));
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
