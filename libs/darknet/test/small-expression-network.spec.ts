import { networkWeightsLayout, parseCfg, readWeights, smallExpressionModel } from '../src';

describe('smallExpressionModel (the small network of tests and fault scenarios)', () => {
  it('has one conv + pool stage per filter count and the four-expression region head', () => {
    const { cfg } = smallExpressionModel([8, 16], 1, 64);
    const network = parseCfg(cfg, 'small.cfg');
    expect(network.layers.map((layer) => layer.type)).toEqual([
      'convolutional',
      'maxpool',
      'convolutional',
      'maxpool',
      'convolutional',
      'region',
    ]);
    expect(network.inputShape).toEqual([3, 64, 64]);
    expect(network.layers[4]?.outputShape).toEqual([45, 16, 16]);
  });

  it('serialises weights that read back for the same cfg, different per seed', () => {
    const first = smallExpressionModel([8, 16, 32], 1);
    const network = parseCfg(first.cfg, 'small.cfg');
    const weights = readWeights(network, first.weights, 'small.weights');
    expect(weights.layers.filter((layer) => layer !== null)).toHaveLength(
      networkWeightsLayout(network).length,
    );
    expect(smallExpressionModel([8, 16, 32], 2).weights.equals(first.weights)).toBe(false);
  });
});
