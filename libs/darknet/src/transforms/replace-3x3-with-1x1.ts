import { networkCost, type LayerCost } from '../analysis/layer-cost';
import { rebuildNetwork } from '../network/rebuild-network';
import type { ConvolutionalLayer, Layer, Network } from '../network/types';

/** Result of the paper's Table 2 transform. */
export interface Replace3x3Result {
  readonly network: Network;
  /** Darknet (0-based) indices of the convolutions that became 1x1. */
  readonly replacedLayerIndices: readonly number[];
  readonly before: LayerCost;
  readonly after: LayerCost;
  /** Fractions removed, e.g. 0.4024 for 40.24 %. */
  readonly reduction: { readonly params: number; readonly flops: number };
  /** The new kernels have a different shape: trained 3x3 weights cannot be carried over. */
  readonly notice: string;
}

export const RETRAIN_NOTICE =
  'The replaced layers have 1x1 kernels now: the network must be retrained (existing 3x3 weights do not fit).';

/** Thrown when a requested layer number cannot be transformed. */
export class TransformError extends Error {
  override name = 'TransformError';
}

function describe(layer: Layer): string {
  return layer.type === 'convolutional'
    ? `a ${layer.size}x${layer.size} convolution`
    : `a ${layer.type} layer`;
}

function to1x1(layer: ConvolutionalLayer): ConvolutionalLayer {
  // Keep the output size: out = (in + 2p - k)/s + 1 stays the same when k drops by 2 and p by 1.
  if (!layer.pad && layer.padding < 1) {
    throw new TransformError(
      `darknet layer ${layer.index} (cfg line ${layer.line}) is an unpadded 3x3 convolution: as 1x1 its output shape would change`,
    );
  }
  return { ...layer, size: 1, padding: layer.pad ? 0 : layer.padding - 1 };
}

/**
 * The paper's 3x3 -> 1x1 transform. `paperLayerNumbers` count from 1 over all layers, as the paper's
 * Table 1 does (paper layer n is darknet's layer n - 1). Each must be a 3x3 convolution; filter counts,
 * strides and output shapes stay the same.
 */
export function replace3x3With1x1(network: Network, paperLayerNumbers: readonly number[]): Replace3x3Result {
  if (paperLayerNumbers.length === 0) throw new TransformError('no layer numbers given');
  const indices = new Set<number>();
  for (const number of paperLayerNumbers) {
    const count = network.layers.length;
    if (!Number.isInteger(number) || number < 1 || number > count) {
      throw new TransformError(
        `layer ${number} does not exist: the paper numbers this network's layers 1..${count}`,
      );
    }
    const layer = network.layers[number - 1];
    if (!layer || layer.type !== 'convolutional' || layer.size !== 3) {
      const what = layer ? describe(layer) : 'missing';
      throw new TransformError(
        `layer ${number} (darknet layer ${number - 1}${layer ? `, cfg line ${layer.line}` : ''}) is ${what}, not a 3x3 convolution`,
      );
    }
    if (indices.has(number - 1)) throw new TransformError(`layer ${number} is listed twice`);
    indices.add(number - 1);
  }
  const layers = network.layers.map((layer) =>
    layer.type === 'convolutional' && indices.has(layer.index) ? to1x1(layer) : layer,
  );
  const transformed = rebuildNetwork(
    network,
    layers,
    `${network.source} (3x3 -> 1x1 at ${paperLayerNumbers.join(',')})`,
  );
  const changedShape = transformed.layers.find(
    (layer, index) => layer.outputShape.join() !== network.layers[index]?.outputShape.join(),
  );
  if (changedShape) {
    throw new TransformError(`the transform changed the output shape of darknet layer ${changedShape.index}`);
  }
  const before = networkCost(network);
  const after = networkCost(transformed);
  return {
    network: transformed,
    replacedLayerIndices: [...indices].sort((a, b) => a - b),
    before,
    after,
    reduction: {
      params: 1 - after.params / before.params,
      flops: before.flops === 0 ? 0 : 1 - after.flops / before.flops,
    },
    notice: RETRAIN_NOTICE,
  };
}
