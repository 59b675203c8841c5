import type { Layer, Network } from '../network/types';

/** Parameters and FLOPs of one layer. */
export interface LayerCost {
  /** Conv/connected weights plus one bias per filter (batch norm folded into weights and bias). */
  readonly params: number;
  /** 2 x multiply-adds (conv/connected only; other layers count 0, as darknet's BFLOPs do). */
  readonly flops: number;
}

export function layerCost(layer: Layer): LayerCost {
  const [channels, height, width] = layer.inputShape;
  switch (layer.type) {
    case 'convolutional': {
      const weightsPerFilter = (channels / layer.groups) * layer.size * layer.size;
      const [, outHeight, outWidth] = layer.outputShape;
      return {
        params: layer.filters * weightsPerFilter + layer.filters,
        flops: 2 * layer.filters * weightsPerFilter * outHeight * outWidth,
      };
    }
    case 'connected': {
      const inputs = channels * height * width;
      return { params: layer.output * inputs + layer.output, flops: 2 * layer.output * inputs };
    }
    case 'maxpool':
    case 'route':
    case 'reorg':
    case 'shortcut':
    case 'avgpool':
    case 'softmax':
    case 'region':
    case 'yolo':
    case 'upsample':
      return { params: 0, flops: 0 };
  }
}

/** Sum of `layerCost` over the network. */
export function networkCost(network: Network): LayerCost {
  return network.layers.reduce(
    (total, layer) => {
      const cost = layerCost(layer);
      return { params: total.params + cost.params, flops: total.flops + cost.flops };
    },
    { params: 0, flops: 0 },
  );
}
