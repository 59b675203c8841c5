import { ExportError } from '../export/export-error';
import type { Layer, LayerWeights, Network, NetworkWeights, Shape } from '../network/types';
import { activateInPlace } from './activation';
import { convolutionalForward } from './convolution';
import { connectedForward, softmaxForward, upsampleForward } from './dense';
import { rawOutputs, type RawOutput } from './graph';
import { avgpoolForward, maxpoolForward } from './pooling';
import { darknetReorg } from './reorg';

/** A raw output of the reference forward pass (CHW, batch of one). */
export interface RawTensor extends RawOutput {
  readonly data: Float32Array;
}

/** Everything one reference forward pass computed. */
export interface ReferenceResult {
  /** Output of every layer (CHW, flattened); `null` for `[region]`/`[yolo]` heads, which are not evaluated. */
  readonly layers: readonly (Float32Array | null)[];
  /** The raw outputs (see `rawOutputs`): what the ONNX and Caffe exports produce. */
  readonly raw: readonly RawTensor[];
}

function volume(shape: Shape): number {
  return shape[0] * shape[1] * shape[2];
}

function weightsOf(network: Network, weights: NetworkWeights, layer: Layer): LayerWeights {
  const layerWeights = weights.layers[layer.index];
  if (!layerWeights) throw ExportError.at(network, layer, 'has no weights');
  return layerWeights;
}

/**
 * The reference forward pass: a plain, exact float32 evaluation of `network` with `weights` on one input
 * (`[channels, height, width]` of the `[net]` section, flattened CHW, RGB in 0..1), layer by layer as
 * darknet's CPU code computes it at inference. This is the "source" side every export is verified against.
 */
export function forwardReference(
  network: Network,
  weights: NetworkWeights,
  input: Float32Array,
): ReferenceResult {
  const expected = volume(network.inputShape);
  if (input.length !== expected) {
    throw new Error(
      `${network.source}: input has ${input.length} values, the network needs ${expected} (${network.inputShape.join('x')} CHW)`,
    );
  }
  const raw = rawOutputs(network);
  const outputs: Array<Float32Array | null> = [];
  const outputOf = (index: number): Float32Array => {
    if (index < 0) return input;
    const output = outputs[index];
    if (!output) throw new Error(`layer ${index} has no output (a detection head)`);
    return output;
  };

  for (const layer of network.layers) {
    const previous = (): Float32Array => outputOf(layer.index - 1);
    switch (layer.type) {
      case 'convolutional':
        outputs.push(convolutionalForward(layer, weightsOf(network, weights, layer), previous()));
        break;
      case 'connected':
        outputs.push(connectedForward(layer, weightsOf(network, weights, layer), previous()));
        break;
      case 'maxpool':
        outputs.push(maxpoolForward(layer, previous()));
        break;
      case 'avgpool':
        outputs.push(avgpoolForward(layer, previous()));
        break;
      case 'route': {
        const output = new Float32Array(volume(layer.outputShape));
        let offset = 0;
        for (const source of layer.layers) {
          const part = outputOf(source);
          output.set(part, offset);
          offset += part.length;
        }
        outputs.push(output);
        break;
      }
      case 'reorg':
        outputs.push(darknetReorg(previous(), layer.inputShape, layer.stride));
        break;
      case 'shortcut': {
        const output = Float32Array.from(previous());
        const added = outputOf(layer.from);
        for (let i = 0; i < output.length; i += 1) output[i] = output[i]! + added[i]!;
        activateInPlace(output, layer.activation);
        outputs.push(output);
        break;
      }
      case 'softmax':
        outputs.push(softmaxForward(layer, previous()));
        break;
      case 'upsample':
        outputs.push(upsampleForward(layer, previous()));
        break;
      case 'region':
      case 'yolo':
        outputs.push(null);
        break;
    }
  }
  return {
    layers: outputs,
    raw: raw.map((output) => ({ ...output, data: outputOf(output.layerIndex) })),
  };
}
