import type { ConvolutionalLayer, LayerWeights, Network, NetworkWeights } from '../../network/types';
import { writeFileAtomic } from '../../util/write-file-atomic';
import { ExportError } from '../export-error';
import { foldedLayerWeights, weightsAt } from '../folded-weights';
import { attr, encodeNetworkGraph, type OnnxGraphBuilder } from './onnx-graph-builder';
import { lowerLayer, tensorName, withActivation } from './export-onnx';

/** Affine uint8 quantisation of a tensor: real = (q - zeroPoint) * scale. */
export interface Uint8Quantization {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** A convolution exported in INT8, with the uint8 quantisation of its input and of its output before activation. */
export interface QdqConvolution {
  /** darknet layer index of a `[convolutional]` layer. */
  readonly index: number;
  readonly input: Uint8Quantization;
  /**
   * The convolution's output before its activation (leaky, linear) or after it (relu, whose zero point must be 0).
   * Without it the convolution keeps a float output, and onnxruntime cannot run it as QLinearConv.
   */
  readonly output?: Uint8Quantization;
}

/** Per-output-channel symmetric int8 weights, as the emofleet cpu engine quantises them at load. */
export interface PerChannelInt8Weights {
  readonly values: Int8Array;
  readonly scales: Float32Array;
}

/** Round half to even (C's nearbyint in the default rounding mode). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Quantises a row-major `[filters][depth]` float32 kernel per output channel exactly as the emofleet cpu engine
 * does (native/core/kernels/quantized_convolution.cpp): scale = max|w| / 127 in float32 (1 for an all-zero row),
 * q = nearbyint(w / scale) clamped to [-127, 127].
 */
export function quantizePerChannelInt8(kernel: Float32Array, filters: number): PerChannelInt8Weights {
  const depth = kernel.length / filters;
  const values = new Int8Array(kernel.length);
  const scales = new Float32Array(filters);
  for (let f = 0; f < filters; f += 1) {
    const row = kernel.subarray(f * depth, (f + 1) * depth);
    let largest = 0;
    for (const w of row) largest = Math.max(largest, Math.abs(w));
    const scale = largest > 0 ? Math.fround(largest / 127) : 1;
    scales[f] = scale;
    row.forEach((w, k) => {
      values[f * depth + k] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(w / scale))));
    });
  }
  return { values, scales };
}

function checkQuantization(network: Network, index: number, what: string, q: Uint8Quantization): void {
  const layer = network.layers[index];
  if (!layer) return;
  if (!(Number.isFinite(q.scale) && q.scale > 0)) {
    throw ExportError.at(network, layer, `${what} scale ${q.scale} is not a positive finite number`);
  }
  if (!(Number.isInteger(q.zeroPoint) && q.zeroPoint >= 0 && q.zeroPoint <= 255)) {
    throw ExportError.at(network, layer, `${what} zero point ${q.zeroPoint} is not an integer in 0..255`);
  }
}

function quantizedLayers(
  network: Network,
  convolutions: readonly QdqConvolution[],
): Map<number, QdqConvolution> {
  const byIndex = new Map<number, QdqConvolution>();
  for (const convolution of convolutions) {
    const layer = network.layers[convolution.index];
    if (!layer) {
      throw new ExportError(
        network.source,
        convolution.index,
        0,
        `layer ${convolution.index} does not exist (the network has ${network.layers.length} layers)`,
      );
    }
    if (layer.type !== 'convolutional') {
      throw ExportError.at(
        network,
        layer,
        `is [${layer.type}]; only convolutional layers are exported in INT8`,
      );
    }
    if (byIndex.has(convolution.index)) throw ExportError.at(network, layer, 'is listed twice');
    checkQuantization(network, convolution.index, 'input', convolution.input);
    if (convolution.output) {
      checkQuantization(network, convolution.index, 'output', convolution.output);
      if (layer.activation === 'relu' && convolution.output.zeroPoint !== 0) {
        throw ExportError.at(
          network,
          layer,
          'a relu output is quantised after the activation: its zero point must be 0',
        );
      }
      if (layer.activation === 'logistic') {
        throw ExportError.at(
          network,
          layer,
          'a logistic output cannot be quantised before the activation here',
        );
      }
    }
    byIndex.set(convolution.index, convolution);
  }
  return byIndex;
}

/**
 * One convolution in QDQ form: input → QuantizeLinear/DequantizeLinear (u8, per tensor) → Conv with
 * DequantizeLinear'd int8 weights (per output channel, axis 0) and int32 bias (scale input scale × weight scale)
 * → QuantizeLinear/DequantizeLinear of the output (when given) → activation. onnxruntime fuses each group into
 * QLinearConv (u8 × s8).
 */
function lowerQdqConvolution(
  graph: OnnxGraphBuilder,
  layer: ConvolutionalLayer,
  input: string,
  weights: LayerWeights,
  quantization: QdqConvolution,
): string {
  const channels = layer.inputShape[0];
  const scalar = (name: string, value: number) => graph.floatTensor(name, [], new Float32Array([value]));
  const inScale = scalar(tensorName(layer, 'input_scale'), quantization.input.scale);
  const inZero = graph.integerTensor(
    tensorName(layer, 'input_zero_point'),
    [],
    new Uint8Array([quantization.input.zeroPoint]),
  );
  const quantizedInput = graph.node('QuantizeLinear', [input, inScale, inZero], tensorName(layer, 'input_q'));
  const dequantizedInput = graph.node(
    'DequantizeLinear',
    [quantizedInput, inScale, inZero],
    tensorName(layer, 'input_dq'),
  );
  const kernel = quantizePerChannelInt8(weights.weights, layer.filters);
  const weightDequantized = graph.node(
    'DequantizeLinear',
    [
      graph.integerTensor(
        tensorName(layer, 'weights_q'),
        [layer.filters, channels / layer.groups, layer.size, layer.size],
        kernel.values,
      ),
      graph.floatTensor(tensorName(layer, 'weights_scale'), [layer.filters], kernel.scales),
      graph.integerTensor(
        tensorName(layer, 'weights_zero_point'),
        [layer.filters],
        new Int8Array(layer.filters),
      ),
    ],
    tensorName(layer, 'weights'),
    { axis: attr.int(0) },
  );
  const biasScales = kernel.scales.map((scale) => Math.fround(scale * quantization.input.scale));
  const biasValues = new Int32Array(layer.filters).map((_, f) =>
    Math.max(-2147483647, Math.min(2147483647, Math.round((weights.biases[f] ?? 0) / (biasScales[f] ?? 1)))),
  );
  const biasDequantized = graph.node(
    'DequantizeLinear',
    [
      graph.integerTensor(tensorName(layer, 'bias_q'), [layer.filters], biasValues),
      graph.floatTensor(tensorName(layer, 'bias_scale'), [layer.filters], biasScales),
      graph.integerTensor(
        tensorName(layer, 'bias_zero_point'),
        [layer.filters],
        new Int32Array(layer.filters),
      ),
    ],
    tensorName(layer, 'bias'),
    { axis: attr.int(0) },
  );
  const p = layer.padding;
  const convolution = (name: string) =>
    graph.node('Conv', [dequantizedInput, weightDequantized, biasDequantized], name, {
      kernel_shape: attr.ints([layer.size, layer.size]),
      strides: attr.ints([layer.stride, layer.stride]),
      pads: attr.ints([p, p, p, p]),
      dilations: attr.ints([1, 1]),
      group: attr.int(layer.groups),
    });
  const output = quantization.output;
  const requantized = (name: string): string => {
    if (!output) return convolution(name);
    const outScale = scalar(tensorName(layer, 'output_scale'), output.scale);
    const outZero = graph.integerTensor(
      tensorName(layer, 'output_zero_point'),
      [],
      new Uint8Array([output.zeroPoint]),
    );
    const quantizedOutput = graph.node(
      'QuantizeLinear',
      [convolution(tensorName(layer, 'conv')), outScale, outZero],
      tensorName(layer, 'output_q'),
    );
    return graph.node('DequantizeLinear', [quantizedOutput, outScale, outZero], name);
  };
  return withActivation(graph, layer.activation, tensorName(layer), requantized);
}

/**
 * The ONNX export of `exportOnnx` with the listed convolutions in QDQ form (QuantizeLinear/DequantizeLinear around
 * them: u8 activations per tensor, s8 weights per output channel on axis 0, int32 biases), for onnxruntime's INT8
 * path. Tensor names, inputs and outputs are those of `exportOnnx`; every other layer stays FP32.
 */
export function exportQdqOnnx(
  network: Network,
  weights: NetworkWeights,
  convolutions: readonly QdqConvolution[],
): Uint8Array {
  const quantized = quantizedLayers(network, convolutions);
  return encodeNetworkGraph(
    network,
    () => {
      const folded = foldedLayerWeights(network, weights);
      return (graph, layer, source) => {
        const quantization = quantized.get(layer.index);
        return layer.type === 'convolutional' && quantization
          ? lowerQdqConvolution(
              graph,
              layer,
              source(layer.index - 1),
              weightsAt(folded, layer.index),
              quantization,
            )
          : lowerLayer(graph, network, layer, source, (i) => weightsAt(folded, i));
      };
    },
    () =>
      `Converted by emofleet from ${network.source}, QDQ-quantised: layers ${[...quantized.keys()].join(', ')} ` +
      'in INT8 (u8 activations per tensor, s8 weights per output channel). Input and outputs as the FP32 export.',
  );
}

/** Writes `exportQdqOnnx` to `path` atomically. */
export function saveQdqOnnx(
  network: Network,
  weights: NetworkWeights,
  convolutions: readonly QdqConvolution[],
  path: string,
): void {
  writeFileAtomic(path, exportQdqOnnx(network, weights, convolutions));
}
