import type { LayerWeights, Network, NetworkWeights } from '../network/types';
import { foldBatchNorm } from '../transforms/fold-batch-norm';
import { isWeightedLayer } from '../weights/weights-layout';
import { ExportError } from './export-error';

/**
 * Per-layer weights with batch norm folded into kernel and bias, the form both exports write. Folding uses
 * darknet's CPU epsilon (`scale / (sqrt(variance) + 1e-6)`), so the exported graph needs no BatchNorm node
 * and no framework's `sqrt(variance + eps)` convention can creep in.
 */
export function foldedLayerWeights(
  network: Network,
  weights: NetworkWeights,
): readonly (LayerWeights | null)[] {
  for (const layer of network.layers) {
    if (isWeightedLayer(layer) && !weights.layers[layer.index]) {
      throw ExportError.at(network, layer, 'has no weights');
    }
  }
  return foldBatchNorm(network, weights).weights.layers;
}

/** The folded weights of one weighted layer (present by construction of `foldedLayerWeights`). */
export function weightsAt(folded: readonly (LayerWeights | null)[], index: number): LayerWeights {
  const layerWeights = folded[index];
  if (!layerWeights) throw new Error(`internal: layer ${index} has no folded weights`);
  return layerWeights;
}
