#include "reorg.hpp"

#include <cstddef>

namespace emofleet {

void runReorg(const LayerSpec& layer, const float* input, float* output) {
  // Names follow darknet's reorg_cpu(x, w, h, c, batch, stride, forward = 0, out) called with the layer's
  // input w, h, c: out[in_index] = x[out_index].
  const int w = layer.input.width;
  const int h = layer.input.height;
  const int c = layer.input.channels;
  const int stride = layer.reorgStride;
  const int outC = c / (stride * stride);
  for (int k = 0; k < c; ++k) {
    const int c2 = k % outC;
    const int offset = k / outC;
    for (int j = 0; j < h; ++j) {
      for (int i = 0; i < w; ++i) {
        const size_t inIndex = static_cast<size_t>(i) + static_cast<size_t>(w) * (static_cast<size_t>(j) +
                               static_cast<size_t>(h) * static_cast<size_t>(k));
        const int w2 = i * stride + offset % stride;
        const int h2 = j * stride + offset / stride;
        const size_t outIndex = static_cast<size_t>(w2) + static_cast<size_t>(w) * static_cast<size_t>(stride) *
                                (static_cast<size_t>(h2) + static_cast<size_t>(h) * static_cast<size_t>(stride) *
                                static_cast<size_t>(c2));
        output[inIndex] = input[outIndex];
      }
    }
  }
}

}  // namespace emofleet
