import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';

export const FIXTURES = join(__dirname, '..', 'fixtures');
export const PAPER_MODELS = join(__dirname, '..', '..', '..', 'darknet', 'models');

export interface TestNetwork {
  readonly name: string;
  readonly cfgPath: string;
  readonly cfg: string;
  readonly weights: Buffer;
}

/** A cfg with seeded random weights (libs/darknet's generator: batch-norm variances in 0.5..1.5). */
export function networkWithRandomWeights(cfgPath: string, seed: number): TestNetwork {
  const cfg = readFileSync(cfgPath, 'utf8');
  const network = parseCfg(cfg, cfgPath);
  const weights = Buffer.from(serialiseWeights(network, randomWeights(network, seed)));
  return { name: cfgPath.split('/').pop() ?? cfgPath, cfgPath, cfg, weights };
}

/** Deterministic pseudo-random floats in [0, 1) (xorshift32). */
export function randomFloats(count: number, seed: number): Float32Array {
  const values = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i += 1) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    values[i] = state / 4294967296;
  }
  return values;
}

export function randomBytes(count: number, seed: number): Buffer {
  const floats = randomFloats(count, seed);
  return Buffer.from(floats.map((v) => Math.floor(v * 256)));
}

/** max|a-b| / max(1, max|b|): the tolerance measure the parity tests use. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) {
    throw new Error(`length ${actual.length} != expected ${expected.length}`);
  }
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < expected.length; i += 1) {
    worst = Math.max(worst, Math.abs((actual[i] ?? 0) - (expected[i] ?? 0)));
    scale = Math.max(scale, Math.abs(expected[i] ?? 0));
  }
  return worst / scale;
}
