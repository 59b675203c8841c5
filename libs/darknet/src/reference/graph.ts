import { ExportError } from '../export/export-error';
import type { Layer, Network, Shape } from '../network/types';

/** A detection head: darknet applies its activations in place and decodes boxes from its input. */
export type HeadLayer = Extract<Layer, { type: 'region' | 'yolo' }>;

export function isHead(layer: Layer): layer is HeadLayer {
  return layer.type === 'region' || layer.type === 'yolo';
}

/**
 * The layers whose outputs `layer` reads: a route its listed layers, a shortcut the previous layer and
 * `from`, every other layer the previous layer (`-1` = the network input).
 */
export function layerInputs(layer: Layer): readonly number[] {
  switch (layer.type) {
    case 'route':
      return layer.layers;
    case 'shortcut':
      return [layer.index - 1, layer.from];
    default:
      return [layer.index - 1];
  }
}

/** One raw (pre-decoding) output of a network: the tensor a head reads, or the last layer's output. */
export interface RawOutput {
  /** `raw` for the first, then `raw_1`, `raw_2`, ... (YOLO v3 has one head per scale). */
  readonly name: string;
  /** Index of the layer that produces the tensor. */
  readonly layerIndex: number;
  readonly shape: Shape;
}

/**
 * The raw outputs of a network: for each `[region]`/`[yolo]` head, in order, the output of the layer just
 * before it (N x C x H x W, not decoded); for a network without heads, its last layer. Rejects networks
 * where another layer reads a head's output, since darknet's heads rewrite their input in place and the
 * exports stop before them.
 */
export function rawOutputs(network: Network): RawOutput[] {
  for (const layer of network.layers) {
    for (const input of layerInputs(layer)) {
      const source = network.layers[input];
      if (source && isHead(source)) {
        throw ExportError.at(
          network,
          layer,
          `reads the output of layer ${input} ([${source.type}]); only the raw tensors before detection heads are supported`,
        );
      }
    }
  }
  const heads = network.layers.filter(isHead);
  const first = heads[0];
  if (first && first.index === 0)
    throw ExportError.at(network, first, 'a detection head needs a layer before it');
  const producers = heads.length > 0 ? heads.map((head) => head.index - 1) : [network.layers.length - 1];
  return producers.map((layerIndex, position) => ({
    name: position === 0 ? 'raw' : `raw_${position}`,
    layerIndex,
    shape: network.layers[layerIndex]?.outputShape ?? network.inputShape,
  }));
}

/**
 * Indices of the layers needed to compute `outputs` (their producers and everything those read), in
 * network order. Exporters emit only these; layers after the last head that feed nothing are left out.
 */
export function layersNeededFor(network: Network, outputs: readonly RawOutput[]): number[] {
  const needed = new Set<number>();
  const pending = outputs.map((output) => output.layerIndex);
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next < 0 || needed.has(next)) continue;
    needed.add(next);
    const layer = network.layers[next];
    if (layer) pending.push(...layerInputs(layer));
  }
  return [...needed].sort((a, b) => a - b);
}
