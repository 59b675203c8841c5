import type { MaxpoolLayer, Network } from '../network/types';
import { ExportError } from './export-error';

/** Zero-free ("ignored") padding of a max pool per spatial axis, as `[height, width]`. */
export interface MaxpoolPadding {
  readonly begin: readonly [number, number];
  readonly end: readonly [number, number];
}

/**
 * The explicit padding that reproduces darknet's maxpool windows. darknet starts window `i` at
 * `i*stride - padding/2` (integer division of the total `padding`, default `size - 1`) and produces
 * `(in + padding - size)/stride + 1` outputs, so the padding is asymmetric in general: `padding/2` before,
 * and after whatever the last window needs to reach past the input. YOLO v2-tiny's `size=2 stride=1` pool
 * pads 0 before and 1 after. Padded positions never win the max (darknet fills them with -FLT_MAX).
 */
export function darknetMaxpoolPadding(network: Network, layer: MaxpoolLayer): MaxpoolPadding {
  const before = Math.floor(layer.padding / 2);
  const after = (axis: 1 | 2): number =>
    Math.max(0, (layer.outputShape[axis] - 1) * layer.stride + layer.size - before - layer.inputShape[axis]);
  const end: [number, number] = [after(1), after(2)];
  if (before >= layer.size || end[0] >= layer.size || end[1] >= layer.size) {
    throw ExportError.at(
      network,
      layer,
      `maxpool padding ${layer.padding} leaves windows entirely outside the input (size ${layer.size}): not expressible as pooling padding`,
    );
  }
  return { begin: [before, before], end };
}
