#include "depthwise_convolution.hpp"

#include <algorithm>
#include <cstddef>

#include "activation.hpp"

namespace emofleet {
namespace {

/** Smallest o with o * stride + offset >= 0, i.e. ceil(-offset / stride) for offset < 0. */
int firstInside(int offset, int stride) { return offset >= 0 ? 0 : (-offset + stride - 1) / stride; }

/** Largest o with o * stride + offset <= limit - 1, or -1. */
int lastInside(int offset, int stride, int limit) {
  const int room = limit - 1 - offset;
  return room < 0 ? -1 : room / stride;
}

/** out[0..width) += weight * in[offset + o * stride] for the columns where the read is inside the row. */
void accumulateTap(float* out, const float* in, int width, int inWidth, int offset, int stride, float weight) {
  const int first = firstInside(offset, stride);
  const int last = std::min(width - 1, lastInside(offset, stride, inWidth));
  if (first > last) return;
  if (stride == 1) {
    const float* src = in + offset;
    for (int o = first; o <= last; ++o) out[o] += weight * src[o];
    return;
  }
  for (int o = first; o <= last; ++o) out[o] += weight * in[offset + o * stride];
}

}  // namespace

void runDepthwiseConvolution(const LayerSpec& layer, const LayerParameters& params, const float* input, float* output,
                             ThreadPool& pool, bool fuse) {
  const ConvolutionParams& p = layer.convolution;
  const Shape in = layer.input;
  const Shape out = layer.output;
  const size_t outWidth = static_cast<size_t>(out.width);
  pool.parallelFor(static_cast<size_t>(out.channels), [&](size_t c, int) {
    const float* plane = input + c * in.plane();
    const float* kernel = params.weights.data() + c * static_cast<size_t>(p.size * p.size);
    float* dst = output + c * out.plane();
    for (int oy = 0; oy < out.height; ++oy) {
      float* row = dst + static_cast<size_t>(oy) * outWidth;
      std::fill(row, row + outWidth, 0.f);
      for (int ky = 0; ky < p.size; ++ky) {
        const int iy = oy * p.stride - p.padding + ky;
        if (iy < 0 || iy >= in.height) continue;
        const float* src = plane + static_cast<size_t>(iy) * static_cast<size_t>(in.width);
        for (int kx = 0; kx < p.size; ++kx) {
          accumulateTap(row, src, out.width, in.width, kx - p.padding, p.stride, kernel[ky * p.size + kx]);
        }
      }
      if (fuse) biasActivate(row, outWidth, params.bias[c], p.activation);
    }
    if (!fuse) {
      addBias(dst, out.plane(), params.bias[c]);
      activateInPlace(dst, out.plane(), p.activation);
    }
  });
}

}  // namespace emofleet
