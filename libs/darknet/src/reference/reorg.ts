import type { Shape } from '../network/types';

/**
 * darknet's `[reorg]` as the layer calls it: `reorg_cpu(input, w, h, c, batch, stride, forward=0, output)`
 * with the layer's *input* dimensions. With forward=0 it writes `out[in_index] = x[out_index]`, i.e. it reads
 * the input as if it were `[c/stride², h*stride, w*stride]` and gathers it into `[c, h, w]` order, which is
 * then viewed as `[c*stride², h/stride, w/stride]`. This differs from plain SpaceToDepth (ONNX/TensorFlow)
 * and is what trained YOLO v2 weights expect.
 */
export function darknetReorg(input: Float32Array, inputShape: Shape, stride: number): Float32Array {
  const [channels, height, width] = inputShape;
  const outChannels = channels / (stride * stride);
  const output = new Float32Array(input.length);
  for (let k = 0; k < channels; k += 1) {
    const c2 = k % outChannels;
    const offset = Math.floor(k / outChannels);
    for (let j = 0; j < height; j += 1) {
      const h2 = j * stride + Math.floor(offset / stride);
      for (let i = 0; i < width; i += 1) {
        const w2 = i * stride + (offset % stride);
        const inIndex = i + width * (j + height * k);
        const outIndex = w2 + width * stride * (h2 + height * stride * c2);
        output[inIndex] = input[outIndex]!;
      }
    }
  }
  return output;
}
