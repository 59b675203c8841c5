import { rebuildNetwork } from '../network/rebuild-network';
import type { Layer, LayerWeights, Network, NetworkWeights } from '../network/types';
import { WeightsError } from '../weights/weights-error';

/** darknet's CPU batch-norm epsilon (blas.c normalize_cpu: `(x - mean)/(sqrt(variance) + .000001f)`). */
export const DARKNET_BATCH_NORM_EPSILON = 0.000001;

/**
 * Folds one layer's batch norm into its kernel and bias. darknet computes
 *   y = scales * (conv(x) - mean) / (sqrt(variance) + 1e-6) + biases
 * — note epsilon is added to the standard deviation, not to the variance as in most frameworks — so
 *   w' = w * scales / (sqrt(variance) + 1e-6),  b' = biases - mean * scales / (sqrt(variance) + 1e-6).
 * Arithmetic is in float64 and rounded to float32 once.
 */
function foldLayer(weights: LayerWeights): LayerWeights {
  const { batchNorm } = weights;
  if (!batchNorm) return weights;
  const filters = weights.biases.length;
  const perFilter = weights.weights.length / filters;
  const folded = new Float32Array(weights.weights.length);
  const biases = new Float32Array(filters);
  for (let filter = 0; filter < filters; filter += 1) {
    const variance = batchNorm.rollingVariance[filter] ?? 0;
    // Epsilon as in darknet's CPU code: added to sqrt(variance).
    const factor = (batchNorm.scales[filter] ?? 0) / (Math.sqrt(variance) + DARKNET_BATCH_NORM_EPSILON);
    biases[filter] = (weights.biases[filter] ?? 0) - (batchNorm.rollingMean[filter] ?? 0) * factor;
    const start = filter * perFilter;
    for (let i = start; i < start + perFilter; i += 1) folded[i] = (weights.weights[i] ?? 0) * factor;
  }
  return { layerIndex: weights.layerIndex, biases, batchNorm: null, weights: folded };
}

function withoutBatchNorm(layer: Layer): Layer {
  return layer.type === 'convolutional' || layer.type === 'connected'
    ? { ...layer, batchNormalize: false }
    : layer;
}

/**
 * Conv/connected + batch norm -> conv/connected with bias, for every batch-normalised layer. Returns the
 * network without `batch_normalize` and the folded weights; outputs are unchanged up to float32 rounding.
 */
export function foldBatchNorm(
  network: Network,
  weights: NetworkWeights,
): { network: Network; weights: NetworkWeights } {
  const layers = network.layers.map((layer) => {
    const layerWeights = weights.layers[layer.index];
    const needsWeights = layer.type === 'convolutional' || layer.type === 'connected';
    if (needsWeights && !layerWeights) {
      throw new WeightsError('<weights>', `layer ${layer.index} (${layer.type}) has no weights to fold`);
    }
    return layerWeights ? foldLayer(layerWeights) : null;
  });
  const folded = rebuildNetwork(
    network,
    network.layers.map(withoutBatchNorm),
    `${network.source} (batch norm folded)`,
  );
  return { network: folded, weights: { header: weights.header, layers } };
}
