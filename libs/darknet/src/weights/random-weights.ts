import type { LayerWeights, Network, NetworkWeights, WeightsHeader } from '../network/types';
import { SeededRandom } from '../util/seeded-random';
import { networkWeightsLayout } from './weights-layout';

/** The header darknet writes today: version 0.2.0, `seen` as 64-bit. */
export const CURRENT_WEIGHTS_HEADER: WeightsHeader = { major: 0, minor: 2, revision: 0, seen: 0n };

/**
 * Deterministic random weights for `network` (tests and benchmarks). Kernels are uniform in
 * ±sqrt(3 / fan-in) so activations keep a sane scale through deep stacks; batch-norm variances are positive.
 */
export function randomWeights(
  network: Network,
  seed: number,
  header = CURRENT_WEIGHTS_HEADER,
): NetworkWeights {
  const random = new SeededRandom(seed);
  const layers: Array<LayerWeights | null> = network.layers.map(() => null);
  for (const layout of networkWeightsLayout(network)) {
    const fanIn = layout.weights / layout.perFilter;
    const limit = Math.sqrt(3 / fanIn);
    const count = layout.perFilter;
    layers[layout.layer.index] = {
      layerIndex: layout.layer.index,
      biases: random.fill(count, -0.1, 0.1),
      batchNorm: layout.batchNormalize
        ? {
            scales: random.fill(count, 0.5, 1.5),
            rollingMean: random.fill(count, -0.1, 0.1),
            rollingVariance: random.fill(count, 0.5, 1.5),
          }
        : null,
      weights: random.fill(layout.weights, -limit, limit),
    };
  }
  return { header, layers };
}
