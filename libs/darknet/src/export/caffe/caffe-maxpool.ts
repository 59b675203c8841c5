import type { MaxpoolLayer, Network } from '../../network/types';
import { ExportError } from '../export-error';
import { darknetMaxpoolPadding } from '../maxpool-padding';

/** How a darknet maxpool maps onto Caffe's Pooling (symmetric padding, ceil rounding) plus an optional Crop. */
export interface CaffeMaxpoolPlan {
  /** Caffe `pad_h`, `pad_w`. */
  readonly pad: readonly [number, number];
  /** Leading Caffe windows to drop per axis (`[height, width]`) with a Crop; `null` when none are extra. */
  readonly cropOffset: readonly [number, number] | null;
}

/** Caffe's pooled size: `ceil((in + 2*pad - size) / stride) + 1`, minus one if the last window starts in the padding. */
export function caffePooledSize(input: number, pad: number, size: number, stride: number): number {
  let pooled = Math.ceil((input + 2 * pad - size) / stride) + 1;
  if (pad > 0 && (pooled - 1) * stride >= input + pad) pooled -= 1;
  return pooled;
}

/**
 * Finds Caffe padding that yields darknet's windows. Caffe window `j` starts at `j*stride - pad`, darknet's
 * window `i` at `i*stride - padding/2`; both ignore positions outside the input. With `pad = padding/2`
 * the windows coincide when Caffe's ceil rounding gives darknet's count. Otherwise (YOLO v2-tiny's
 * `size=2 stride=1`: darknet pads only after, Caffe pads both sides) a larger `pad = padding/2 + k*stride`
 * adds `k` leading windows, which a Crop against the pooling input removes — possible when the pool keeps
 * the spatial size, as stride-1 pools do.
 */
export function planCaffeMaxpool(network: Network, layer: MaxpoolLayer): CaffeMaxpoolPlan {
  const before = darknetMaxpoolPadding(network, layer).begin[0];
  const { size, stride } = layer;
  const keepsSize =
    layer.outputShape[1] === layer.inputShape[1] && layer.outputShape[2] === layer.inputShape[2];
  const planAxis = (axis: 1 | 2): { pad: number; offset: number; exact: boolean } => {
    const input = layer.inputShape[axis];
    const wanted = layer.outputShape[axis];
    for (let pad = before; pad < size; pad += stride) {
      // A window larger than the padded input has no defined Caffe size (OpenCV rejects it).
      if (input + 2 * pad < size) continue;
      const offset = (pad - before) / stride;
      const pooled = caffePooledSize(input, pad, size, stride);
      if (offset === 0 && pooled === wanted) return { pad, offset, exact: true };
      if (keepsSize && pooled >= offset + wanted) return { pad, offset, exact: false };
    }
    throw ExportError.at(
      network,
      layer,
      `maxpool size=${size} stride=${stride} padding=${layer.padding} on ${input} pixels gives ${wanted} outputs in darknet; no Caffe pooling padding (with a crop) reproduces its windows`,
    );
  };
  const height = planAxis(1);
  const width = planAxis(2);
  const exact = height.exact && width.exact;
  return { pad: [height.pad, width.pad], cropOffset: exact ? null : [height.offset, width.offset] };
}
