import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { apiRequest } from './api-request';
import { eventually } from './eventually';
import { authHeaders } from './test-environment';

const NAMES = readFileSync(join(__dirname, '../../../../libs/darknet/models/expressions.names'), 'utf8');

/** A small YOLO v2 shaped network (96x96, three conv + pool stages, region head, the four expressions). */
export const SMALL_CFG = `[net]
batch=1
subdivisions=1
width=96
height=96
channels=3

${[8, 16, 32]
  .map(
    (filters) => `[convolutional]
batch_normalize=1
filters=${filters}
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2
`,
  )
  .join('\n')}
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

const NETWORK = parseCfg(SMALL_CFG, 'small-expression.cfg');

/**
 * Uploads a version of `model` (weights from `seed`) and waits until the pipeline made it ready (the spec file
 * needs the onnxruntime jest environment: the pipeline verifies its ONNX export). Returns the version.
 */
export async function uploadReadyVersion(
  baseUrl: string,
  model: string,
  seed: number,
): Promise<{ id: string; version: number }> {
  const form = new FormData();
  form.append('cfg', new Blob([SMALL_CFG]), 'small-expression.cfg');
  form.append(
    'weights',
    new Blob([Buffer.from(serialiseWeights(NETWORK, randomWeights(NETWORK, seed)))]),
    'small.weights',
  );
  form.append('names', new Blob([NAMES]), 'expressions.names');
  const response = await fetch(`${baseUrl}/models/${model}/versions`, {
    method: 'POST',
    headers: authHeaders(),
    body: form,
  });
  const created = (await response.json()) as { id: string; version: number };
  if (response.status !== 201) throw new Error(`upload of ${model}: ${JSON.stringify(created)}`);
  const ready = await eventually(
    () =>
      apiRequest<{ status: string; statusReason: string | null }>(
        baseUrl,
        'GET',
        `/models/${model}/versions/${created.version}`,
      ),
    (detail) => detail.body.status === 'ready' || detail.body.status === 'failed',
    { timeoutMs: 120_000, intervalMs: 250, what: `${model}@${created.version} through the pipeline` },
  );
  if (ready.body.status !== 'ready')
    throw new Error(`${model}@${created.version} failed in the pipeline: ${ready.body.statusReason ?? '?'}`);
  return created;
}
