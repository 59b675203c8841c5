import type { Layer, Network, WeightedLayer } from '../network/types';

/** How many floats one weighted layer stores, in file order. */
export interface LayerWeightsLayout {
  readonly layer: WeightedLayer;
  /** Biases, and each batch-norm vector when present: one per filter / output. */
  readonly perFilter: number;
  readonly batchNormalize: boolean;
  /** Convolution kernels or the fully connected matrix. */
  readonly weights: number;
  /** All floats of the layer. */
  readonly total: number;
}

export function isWeightedLayer(layer: Layer): layer is WeightedLayer {
  return layer.type === 'convolutional' || layer.type === 'connected';
}

/** The floats darknet reads for one layer (`load_convolutional_weights` / `load_connected_weights`). */
export function layerWeightsLayout(layer: WeightedLayer): LayerWeightsLayout {
  const [channels, height, width] = layer.inputShape;
  const perFilter = layer.type === 'convolutional' ? layer.filters : layer.output;
  const weights =
    layer.type === 'convolutional'
      ? layer.filters * (channels / layer.groups) * layer.size * layer.size
      : layer.output * channels * height * width;
  const total = perFilter * (layer.batchNormalize ? 4 : 1) + weights;
  return { layer, perFilter, batchNormalize: layer.batchNormalize, weights, total };
}

/** Layouts of all weighted layers of a network, in file order. */
export function networkWeightsLayout(network: Network): LayerWeightsLayout[] {
  return network.layers.filter(isWeightedLayer).map(layerWeightsLayout);
}

/** Header bytes for a version: 3 int32 + `seen` as uint64 when `major*10+minor >= 2`, else int32. */
export function headerByteLength(major: number, minor: number): number {
  return 12 + (major * 10 + minor >= 2 ? 8 : 4);
}
