import type { ConnectedLayer, LayerWeights, SoftmaxLayer, UpsampleLayer } from '../network/types';
import { activateInPlace } from './activation';
import { normalizeAndAddBias } from './batch-norm';

const fround = Math.fround;

/** darknet's `[connected]`: `out[o] = sum_i W[o][i] * x[i]` over the CHW-flattened input, then BN/bias, activation. */
export function connectedForward(
  layer: ConnectedLayer,
  weights: LayerWeights,
  input: Float32Array,
): Float32Array {
  const inputs = input.length;
  const output = new Float32Array(layer.output);
  for (let o = 0; o < layer.output; o += 1) {
    let sum = 0;
    const row = o * inputs;
    for (let i = 0; i < inputs; i += 1) sum += weights.weights[row + i]! * input[i]!;
    output[o] = sum;
  }
  normalizeAndAddBias(output, layer.output, 1, weights.biases, weights.batchNorm);
  activateInPlace(output, layer.activation);
  return output;
}

/** darknet's `[softmax]`: softmax of `input / temperature` over each of `groups` equal runs of the flattened input. */
export function softmaxForward(layer: SoftmaxLayer, input: Float32Array): Float32Array {
  const output = new Float32Array(input.length);
  const groupSize = input.length / layer.groups;
  const temperature = layer.temperature;
  for (let group = 0; group < layer.groups; group += 1) {
    const start = group * groupSize;
    const end = start + groupSize;
    let largest = -Infinity;
    for (let i = start; i < end; i += 1) largest = Math.max(largest, input[i]!);
    let sum = 0;
    for (let i = start; i < end; i += 1) {
      const e = fround(Math.exp(input[i]! / temperature - largest / temperature));
      output[i] = e;
      sum += e;
    }
    for (let i = start; i < end; i += 1) output[i] = output[i]! / sum;
  }
  return output;
}

/** darknet's `[upsample]`: nearest neighbour, `out[c][y][x] = scale * in[c][y/stride][x/stride]`. */
export function upsampleForward(layer: UpsampleLayer, input: Float32Array): Float32Array {
  const [channels, height, width] = layer.inputShape;
  const [, outHeight, outWidth] = layer.outputShape;
  const output = new Float32Array(channels * outHeight * outWidth);
  for (let channel = 0; channel < channels; channel += 1) {
    for (let y = 0; y < outHeight; y += 1) {
      const inputRow = (channel * height + Math.floor(y / layer.stride)) * width;
      const outputRow = (channel * outHeight + y) * outWidth;
      for (let x = 0; x < outWidth; x += 1) {
        output[outputRow + x] = layer.scale * input[inputRow + Math.floor(x / layer.stride)]!;
      }
    }
  }
  return output;
}
