import type { AvgpoolLayer, MaxpoolLayer } from '../network/types';

/**
 * darknet's maxpool (maxpool_layer.c): the window for output (y, x) starts at `y*stride - padding/2`
 * (integer division of the total padding); positions outside the input count as -FLT_MAX, i.e. are ignored.
 */
export function maxpoolForward(layer: MaxpoolLayer, input: Float32Array): Float32Array {
  const [channels, height, width] = layer.inputShape;
  const [, outHeight, outWidth] = layer.outputShape;
  const { size, stride } = layer;
  const offset = -Math.floor(layer.padding / 2);
  const output = new Float32Array(channels * outHeight * outWidth);
  for (let channel = 0; channel < channels; channel += 1) {
    const plane = channel * height * width;
    for (let oy = 0; oy < outHeight; oy += 1) {
      for (let ox = 0; ox < outWidth; ox += 1) {
        let max = -3.4028234663852886e38;
        for (let ky = 0; ky < size; ky += 1) {
          const y = offset + oy * stride + ky;
          if (y < 0 || y >= height) continue;
          for (let kx = 0; kx < size; kx += 1) {
            const x = offset + ox * stride + kx;
            if (x < 0 || x >= width) continue;
            const value = input[plane + y * width + x]!;
            if (value > max) max = value;
          }
        }
        output[(channel * outHeight + oy) * outWidth + ox] = max;
      }
    }
  }
  return output;
}

/** darknet's global average pooling: the mean of each channel plane. */
export function avgpoolForward(layer: AvgpoolLayer, input: Float32Array): Float32Array {
  const [channels, height, width] = layer.inputShape;
  const planeSize = height * width;
  const output = new Float32Array(channels);
  for (let channel = 0; channel < channels; channel += 1) {
    let sum = 0;
    for (let i = channel * planeSize; i < (channel + 1) * planeSize; i += 1) sum += input[i]!;
    output[channel] = sum / planeSize;
  }
  return output;
}
