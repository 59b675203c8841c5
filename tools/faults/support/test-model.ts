import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { smallExpressionModel } from '@emofleet/darknet';
import { type ControlPlaneApi } from './control-plane-api';
import { waitFor } from './wait';

const NAMES = readFileSync(resolve(__dirname, '../../../libs/darknet/models/expressions.names'), 'utf8');

export interface ModelFiles {
  cfg: string;
  weights: Buffer;
  names: string;
}

/** The small expression network of libs/darknet (`stageFilters` conv + pool stages) with the four names. */
export function smallModelFiles(stageFilters: readonly number[], seed: number, inputSize = 96): ModelFiles {
  return { ...smallExpressionModel(stageFilters, seed, inputSize), names: NAMES };
}

/** Uploads a version and waits until the pipeline made it ready; returns its id. */
export async function uploadReadyModel(
  api: ControlPlaneApi,
  model: string,
  files: ModelFiles,
  timeoutMs = 180_000,
): Promise<{ id: string; version: number; jobId: string }> {
  const created = await api.uploadModelVersion(model, files);
  const detail = await waitFor(
    `${model}@${created.version} through the pipeline`,
    () => api.modelVersion(model, created.version),
    (version) => version.status === 'ready' || version.status === 'failed',
    { timeoutMs, intervalMs: 250 },
  );
  if (detail.status !== 'ready') {
    throw new Error(`${model}@${created.version} failed in the pipeline: ${detail.statusReason ?? '?'}`);
  }
  return created;
}
