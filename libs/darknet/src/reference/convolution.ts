import type { ConvolutionalLayer, LayerWeights } from '../network/types';
import { activateInPlace } from './activation';
import { normalizeAndAddBias } from './batch-norm';

/** Output positions whose patches are gathered at once (the patch block stays in cache). */
const POSITIONS_PER_BLOCK = 64;

/**
 * Grouped 2-D convolution with zero padding, then darknet's batch norm / bias and activation.
 *
 * For each block of output positions and each group, every position's input patch is gathered into a row
 * `patches[position][k]` with `k = (channel, ky, kx)` — the kernel's own layout `[filter][channel][ky][kx]`
 * — and each output is the dot product of a kernel row with a patch row, accumulated in float64 and rounded
 * to float32 once. Four filters and two positions share each pass over the patches (a speed-up only).
 */
export function convolutionalForward(
  layer: ConvolutionalLayer,
  weights: LayerWeights,
  input: Float32Array,
): Float32Array {
  const [channels, height, width] = layer.inputShape;
  const [filters, outHeight, outWidth] = layer.outputShape;
  const { size, stride, padding, groups } = layer;
  const channelsPerGroup = channels / groups;
  const filtersPerGroup = filters / groups;
  const patchLength = channelsPerGroup * size * size;
  const positions = outHeight * outWidth;
  const output = new Float32Array(filters * positions);
  const kernel = weights.weights;
  const patches = new Float32Array(patchLength * POSITIONS_PER_BLOCK);

  for (let first = 0; first < positions; first += POSITIONS_PER_BLOCK) {
    const count = Math.min(POSITIONS_PER_BLOCK, positions - first);
    for (let group = 0; group < groups; group += 1) {
      // Gather patches[p][k] for output positions first..first+count-1 (zero outside the image).
      for (let p = 0; p < count; p += 1) {
        const oy = Math.floor((first + p) / outWidth);
        const ox = first + p - oy * outWidth;
        let k = p * patchLength;
        for (let groupChannel = 0; groupChannel < channelsPerGroup; groupChannel += 1) {
          const plane = (group * channelsPerGroup + groupChannel) * height * width;
          for (let ky = 0; ky < size; ky += 1) {
            const y = oy * stride + ky - padding;
            for (let kx = 0; kx < size; kx += 1) {
              const x = ox * stride + kx - padding;
              patches[k] = y >= 0 && y < height && x >= 0 && x < width ? input[plane + y * width + x]! : 0;
              k += 1;
            }
          }
        }
      }
      const endFilter = (group + 1) * filtersPerGroup;
      for (let filter = group * filtersPerGroup; filter < endFilter; filter += 4) {
        const lanes = Math.min(4, endFilter - filter);
        // Missing lanes reuse the first filter's weights; their sums are discarded.
        const base0 = filter * patchLength;
        const base1 = (lanes > 1 ? filter + 1 : filter) * patchLength;
        const base2 = (lanes > 2 ? filter + 2 : filter) * patchLength;
        const base3 = (lanes > 3 ? filter + 3 : filter) * patchLength;
        // Two positions at a time (a trailing odd position is computed twice and written once).
        for (let p = 0; p < count; p += 2) {
          const q = Math.min(p + 1, count - 1);
          const rowP = p * patchLength;
          const rowQ = q * patchLength;
          let p0 = 0;
          let p1 = 0;
          let p2 = 0;
          let p3 = 0;
          let q0 = 0;
          let q1 = 0;
          let q2 = 0;
          let q3 = 0;
          for (let k = 0; k < patchLength; k += 1) {
            const valueP = patches[rowP + k]!;
            const valueQ = patches[rowQ + k]!;
            const w0 = kernel[base0 + k]!;
            const w1 = kernel[base1 + k]!;
            const w2 = kernel[base2 + k]!;
            const w3 = kernel[base3 + k]!;
            p0 += w0 * valueP;
            p1 += w1 * valueP;
            p2 += w2 * valueP;
            p3 += w3 * valueP;
            q0 += w0 * valueQ;
            q1 += w1 * valueQ;
            q2 += w2 * valueQ;
            q3 += w3 * valueQ;
          }
          const targetP = filter * positions + first + p;
          const targetQ = filter * positions + first + q;
          output[targetP] = p0;
          output[targetQ] = q0;
          if (lanes > 1) {
            output[targetP + positions] = p1;
            output[targetQ + positions] = q1;
          }
          if (lanes > 2) {
            output[targetP + 2 * positions] = p2;
            output[targetQ + 2 * positions] = q2;
          }
          if (lanes > 3) {
            output[targetP + 3 * positions] = p3;
            output[targetQ + 3 * positions] = q3;
          }
        }
      }
    }
  }
  normalizeAndAddBias(output, filters, positions, weights.biases, weights.batchNorm);
  activateInPlace(output, layer.activation);
  return output;
}
