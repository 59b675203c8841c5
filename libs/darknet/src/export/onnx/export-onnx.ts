import type { Activation, Layer, LayerWeights, Network, NetworkWeights } from '../../network/types';
import { writeFileAtomic } from '../../util/write-file-atomic';
import { foldedLayerWeights, weightsAt } from '../folded-weights';
import { darknetMaxpoolPadding } from '../maxpool-padding';
import { attr, encodeNetworkGraph, type OnnxGraphBuilder } from './onnx-graph-builder';

export { ONNX_IR_VERSION, ONNX_OPSET } from './onnx-graph-builder';

export function tensorName(layer: Layer, step?: string): string {
  return step ? `layer${layer.index}_${step}` : `layer${layer.index}`;
}

/**
 * Runs `produce` (which creates the tensor named by its argument) and appends darknet's activation, so that
 * the final tensor is named `out`: leaky = LeakyRelu(0.1), relu = Relu, logistic = Sigmoid.
 */
export function withActivation(
  graph: OnnxGraphBuilder,
  activation: Activation,
  out: string,
  produce: (name: string) => string,
): string {
  if (activation === 'linear') return produce(out);
  const linear = produce(`${out}_linear`);
  switch (activation) {
    case 'leaky':
      return graph.node('LeakyRelu', [linear], out, { alpha: attr.float(0.1) });
    case 'relu':
      return graph.node('Relu', [linear], out);
    case 'logistic':
      return graph.node('Sigmoid', [linear], out);
  }
}

/** Lowers one layer; `source(i)` names the tensor of layer `i` (-1: the input). Returns the layer's tensor. */
export function lowerLayer(
  graph: OnnxGraphBuilder,
  network: Network,
  layer: Layer,
  source: (index: number) => string,
  weights: (index: number) => LayerWeights,
): string {
  // The previous layer's tensor; a route does not read it (it may be a detection head).
  const previous = (): string => source(layer.index - 1);
  const out = tensorName(layer);
  const [channels, height, width] = layer.inputShape;
  const [outChannels, outHeight, outWidth] = layer.outputShape;
  switch (layer.type) {
    case 'convolutional': {
      const { weights: kernel, biases } = weights(layer.index);
      const w = graph.floatTensor(
        tensorName(layer, 'weights'),
        [layer.filters, channels / layer.groups, layer.size, layer.size],
        kernel,
      );
      const b = graph.floatTensor(tensorName(layer, 'bias'), [layer.filters], biases);
      const p = layer.padding;
      return withActivation(graph, layer.activation, out, (name) =>
        graph.node('Conv', [previous(), w, b], name, {
          kernel_shape: attr.ints([layer.size, layer.size]),
          strides: attr.ints([layer.stride, layer.stride]),
          pads: attr.ints([p, p, p, p]),
          dilations: attr.ints([1, 1]),
          group: attr.int(layer.groups),
        }),
      );
    }
    case 'connected': {
      const { weights: matrix, biases } = weights(layer.index);
      const inputs = channels * height * width;
      const flat = graph.node('Flatten', [previous()], tensorName(layer, 'flat'), { axis: attr.int(1) });
      const w = graph.floatTensor(tensorName(layer, 'weights'), [layer.output, inputs], matrix);
      const b = graph.floatTensor(tensorName(layer, 'bias'), [layer.output], biases);
      const gemm = graph.node('Gemm', [flat, w, b], tensorName(layer, 'gemm'), { transB: attr.int(1) });
      const shape = graph.int64Tensor(tensorName(layer, 'shape'), [1, layer.output, 1, 1]);
      return withActivation(graph, layer.activation, out, (name) =>
        graph.node('Reshape', [gemm, shape], name),
      );
    }
    case 'maxpool': {
      const { begin, end } = darknetMaxpoolPadding(network, layer);
      return graph.node('MaxPool', [previous()], out, {
        kernel_shape: attr.ints([layer.size, layer.size]),
        strides: attr.ints([layer.stride, layer.stride]),
        pads: attr.ints([begin[0], begin[1], end[0], end[1]]),
      });
    }
    case 'avgpool':
      return graph.node('GlobalAveragePool', [previous()], out);
    case 'route': {
      const inputs = layer.layers.map(source);
      return inputs.length === 1
        ? graph.node('Identity', inputs, out)
        : graph.node('Concat', inputs, out, { axis: attr.int(1) });
    }
    case 'reorg': {
      // darknet reads [C,H,W] as [C/s², H, s, W, s] and writes it in (dy, dx, c, y, x) order.
      const s = layer.stride;
      const split = graph.int64Tensor(tensorName(layer, 'split_shape'), [
        1,
        channels / (s * s),
        height,
        s,
        width,
        s,
      ]);
      const blocks = graph.node('Reshape', [previous(), split], tensorName(layer, 'blocks'));
      const moved = graph.node('Transpose', [blocks], tensorName(layer, 'moved'), {
        perm: attr.ints([0, 3, 5, 1, 2, 4]),
      });
      const merged = graph.int64Tensor(tensorName(layer, 'shape'), [1, outChannels, outHeight, outWidth]);
      return graph.node('Reshape', [moved, merged], out);
    }
    case 'shortcut':
      return withActivation(graph, layer.activation, out, (name) =>
        graph.node('Add', [previous(), source(layer.from)], name),
      );
    case 'softmax': {
      const total = channels * height * width;
      const groups = graph.int64Tensor(tensorName(layer, 'group_shape'), [
        1,
        layer.groups,
        total / layer.groups,
      ]);
      let grouped = graph.node('Reshape', [previous(), groups], tensorName(layer, 'groups'));
      if (layer.temperature !== 1) {
        const temperature = graph.floatTensor(
          tensorName(layer, 'temperature'),
          [],
          new Float32Array([layer.temperature]),
        );
        grouped = graph.node('Div', [grouped, temperature], tensorName(layer, 'tempered'));
      }
      const softmax = graph.node('Softmax', [grouped], tensorName(layer, 'softmax'), { axis: attr.int(2) });
      const shape = graph.int64Tensor(tensorName(layer, 'shape'), [1, channels, height, width]);
      return graph.node('Reshape', [softmax, shape], out);
    }
    case 'upsample': {
      const scales = graph.floatTensor(
        tensorName(layer, 'scales'),
        [4],
        new Float32Array([1, 1, layer.stride, layer.stride]),
      );
      const resized = graph.node(
        'Resize',
        [previous(), '', scales],
        layer.scale === 1 ? out : tensorName(layer, 'resized'),
        {
          mode: attr.string('nearest'),
          coordinate_transformation_mode: attr.string('asymmetric'),
          nearest_mode: attr.string('floor'),
        },
      );
      if (layer.scale === 1) return resized;
      const scale = graph.floatTensor(tensorName(layer, 'scale'), [], new Float32Array([layer.scale]));
      return graph.node('Mul', [resized, scale], out);
    }
    case 'region':
    case 'yolo':
      throw new Error(`internal: detection head ${layer.index} is never lowered`);
  }
}

/**
 * Converts a darknet network and its weights to an ONNX model (opset 13).
 *
 * - Input `input`: float32 NCHW `[1, channels, height, width]` of the cfg, RGB in 0..1 (as darknet feeds it).
 * - Outputs: `raw` = the layer before the first `[region]`/`[yolo]` head (or the last layer), undecoded,
 *   then `raw_1`, ... for further heads. Box decoding is not part of the graph.
 * - Batch norm is folded into the convolution with darknet's `sqrt(variance) + 1e-6`.
 * - leaky = LeakyRelu(0.1); maxpool gets darknet's asymmetric padding; route = Concat; reorg =
 *   Reshape/Transpose/Reshape in darknet's exact element order; upsample = Resize(nearest, asymmetric, floor).
 */
export function exportOnnx(network: Network, weights: NetworkWeights): Uint8Array {
  return encodeNetworkGraph(
    network,
    () => {
      const folded = foldedLayerWeights(network, weights);
      return (graph, layer, source) => lowerLayer(graph, network, layer, source, (i) => weightsAt(folded, i));
    },
    (outputs) =>
      `Converted by emofleet from ${network.source}. Input 'input': NCHW RGB in 0..1. Outputs: ${outputs
        .map((output) => `'${output.name}' = layer ${output.layerIndex} (raw, not decoded)`)
        .join(', ')}. Batch norm folded with darknet's sqrt(var) + 1e-6.`,
  );
}

/** Writes `exportOnnx` to `path` atomically (temporary file + rename). */
export function saveOnnx(network: Network, weights: NetworkWeights, path: string): void {
  writeFileAtomic(path, exportOnnx(network, weights));
}
