import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { smallExpressionCfg, smallExpressionModel } from '@emofleet/darknet';
import { apiRequest } from './api-request';
import { eventually } from './eventually';
import { authHeaders } from './test-environment';

const NAMES = readFileSync(join(__dirname, '../../../../libs/darknet/models/expressions.names'), 'utf8');

/** The stages of the small test network: 96x96 input, three conv + pool stages, the four-expression region head. */
const SMALL_STAGES = [8, 16, 32];
export const SMALL_CFG = smallExpressionCfg(SMALL_STAGES);

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
  const { cfg, weights } = smallExpressionModel(SMALL_STAGES, seed);
  form.append('cfg', new Blob([cfg]), 'small-expression.cfg');
  form.append('weights', new Blob([weights]), 'small.weights');
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
