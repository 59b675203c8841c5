import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { type ControlPlaneApi } from './control-plane-api';
import { waitFor } from './wait';

const NAMES = readFileSync(resolve(__dirname, '../../../libs/darknet/models/expressions.names'), 'utf8');

/**
 * A small YOLO v2 shaped expression network (96x96 input by default, conv + pool stages with `filters` each,
 * region head with the four expressions): the pipeline converts and benchmarks it in seconds, and its bundle is big
 * enough (wider stages give more weights) for a throttled download to take a while.
 */
export function smallModelCfg(filters: readonly number[], inputSize = 96): string {
  const stages = filters
    .map(
      (count) =>
        `[convolutional]\nbatch_normalize=1\nfilters=${count}\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n[maxpool]\nsize=2\nstride=2\n`,
    )
    .join('\n');
  return `[net]\nbatch=1\nsubdivisions=1\nwidth=${inputSize}\nheight=${inputSize}\nchannels=3\n\n${stages}
[convolutional]
filters=45
size=1
stride=1
pad=1
activation=linear

[region]
anchors=1.08,1.19,3.42,4.41,6.63,11.38,9.42,5.11,16.62,10.52
bias_match=1
classes=4
coords=4
num=5
softmax=1
`;
}

export interface ModelFiles {
  cfg: string;
  weights: Buffer;
  names: string;
}

export function smallModelFiles(filters: readonly number[], seed: number, inputSize = 96): ModelFiles {
  const cfg = smallModelCfg(filters, inputSize);
  const network = parseCfg(cfg, 'fault-model.cfg');
  return { cfg, weights: Buffer.from(serialiseWeights(network, randomWeights(network, seed))), names: NAMES };
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
