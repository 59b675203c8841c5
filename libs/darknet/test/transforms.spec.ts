import { join } from 'path';
import {
  DARKNET_BATCH_NORM_EPSILON,
  foldBatchNorm,
  loadCfg,
  parseCfg,
  randomWeights,
  replace3x3With1x1,
  RETRAIN_NOTICE,
  TransformError,
  type Network,
  type NetworkWeights,
} from '../src';

const base = loadCfg(join(__dirname, '..', 'models', 'yolov2-expression.cfg'));

function transformError(network: Network, numbers: number[]): string {
  try {
    replace3x3With1x1(network, numbers);
  } catch (error) {
    expect(error).toBeInstanceOf(TransformError);
    return (error as Error).message;
  }
  throw new Error('expected a TransformError');
}

describe('replace3x3With1x1', () => {
  it('counts layers 1-based as the paper does and keeps every shape', () => {
    const result = replace3x3With1x1(base, [3]);
    expect(result.replacedLayerIndices).toEqual([2]);
    const layer = result.network.layers[2];
    expect(layer?.type === 'convolutional' && layer.size).toBe(1);
    expect(result.network.layers.map((l) => l.outputShape)).toEqual(base.layers.map((l) => l.outputShape));
    expect(result.before.params - result.after.params).toBe(64 * 32 * 8);
    expect(result.notice).toBe(RETRAIN_NOTICE);
  });

  it.each([
    [[2], 'layer 2 (darknet layer 1, cfg line 30) is a maxpool layer, not a 3x3 convolution'],
    [[6], 'layer 6 (darknet layer 5, cfg line 54) is a 1x1 convolution, not a 3x3 convolution'],
    [[26], 'layer 26 (darknet layer 25, cfg line 202) is a route layer, not a 3x3 convolution'],
    [[0], "layer 0 does not exist: the paper numbers this network's layers 1..32"],
    [[33], 'layer 33 does not exist'],
    [[3, 3], 'layer 3 is listed twice'],
    [[], 'no layer numbers given'],
  ])('refuses %j', (numbers, message) => {
    expect(transformError(base, numbers)).toContain(message);
  });

  it('keeps the output size of explicitly padded 3x3 convolutions and refuses unpadded ones', () => {
    const text = (padding: number): string =>
      `[net]\nwidth=8\nheight=8\nchannels=1\n\n[convolutional]\nfilters=2\nsize=3\npadding=${padding}\nactivation=linear\n`;
    const padded = replace3x3With1x1(parseCfg(text(2), 'p.cfg'), [1]);
    expect(padded.network.outputShape).toEqual([2, 10, 10]);
    expect(transformError(parseCfg(text(0), 'u.cfg'), [1])).toContain('unpadded 3x3 convolution');
  });
});

describe('foldBatchNorm', () => {
  const network = parseCfg(
    [
      '[net]\nwidth=3\nheight=3\nchannels=2',
      '[convolutional]\nbatch_normalize=1\nfilters=2\nsize=1\nactivation=leaky',
      '[connected]\noutput=3\nbatch_normalize=1\nactivation=linear',
    ].join('\n\n'),
    'bn.cfg',
  );

  /** darknet's forward for one output value before the activation (normalize_cpu, scale_bias, add_bias). */
  function darknetOutput(
    weights: NetworkWeights,
    layer: number,
    filter: number,
    inputs: readonly number[],
  ): number {
    const w = weights.layers[layer];
    if (!w) throw new Error('no weights');
    const perFilter = w.weights.length / w.biases.length;
    let sum = 0;
    for (let i = 0; i < perFilter; i += 1) sum += (w.weights[filter * perFilter + i] ?? 0) * (inputs[i] ?? 0);
    const bn = w.batchNorm;
    if (!bn) return sum + (w.biases[filter] ?? 0);
    const normalised =
      (sum - (bn.rollingMean[filter] ?? 0)) /
      (Math.sqrt(bn.rollingVariance[filter] ?? 0) + DARKNET_BATCH_NORM_EPSILON);
    return normalised * (bn.scales[filter] ?? 0) + (w.biases[filter] ?? 0);
  }

  it('gives the same outputs without batch norm, with epsilon added to sqrt(variance)', () => {
    const weights = randomWeights(network, 11);
    const folded = foldBatchNorm(network, weights);
    expect(
      folded.network.layers.map((l) =>
        l.type !== 'convolutional' && l.type !== 'connected' ? null : l.batchNormalize,
      ),
    ).toEqual([false, false]);
    expect(folded.weights.layers.every((l) => l?.batchNorm === null)).toBe(true);
    const convInput = [0.3, -1.2];
    const fcInput = Array.from({ length: 18 }, (_, i) => Math.sin(i));
    for (let filter = 0; filter < 2; filter += 1) {
      expect(darknetOutput(folded.weights, 0, filter, convInput)).toBeCloseTo(
        darknetOutput(weights, 0, filter, convInput),
        5,
      );
    }
    for (let output = 0; output < 3; output += 1) {
      expect(darknetOutput(folded.weights, 1, output, fcInput)).toBeCloseTo(
        darknetOutput(weights, 1, output, fcInput),
        4,
      );
    }
  });

  it('uses sqrt(variance) + 1e-6, not sqrt(variance + eps)', () => {
    const weights = randomWeights(network, 12);
    const conv = weights.layers[0];
    if (!conv?.batchNorm) throw new Error('expected batch norm');
    conv.batchNorm.rollingVariance.fill(0);
    conv.batchNorm.scales.fill(1);
    conv.batchNorm.rollingMean.fill(0);
    const folded = foldBatchNorm(network, weights).weights.layers[0];
    // With variance 0 darknet divides by 1e-6: every kernel value is multiplied by 1e6.
    expect(folded?.weights[0]).toBeCloseTo((conv.weights[0] ?? 0) * 1e6, -1);
  });
});
