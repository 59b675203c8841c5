// darknet [maxpool] (window starts at -padding/2, positions outside the input are skipped) and global [avgpool].
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../network_spec.hpp"
#include "../thread_pool.hpp"

namespace emofleet {

void runMaxPool(const LayerSpec& layer, const float* input, float* output, ThreadPool& pool);
/**
 * The same pool over uint8 activations (an INT8 convolution's output quantised for the INT8 convolution after
 * the pool). Quantisation is monotonic, so this equals quantising the float pool's output.
 */
void runMaxPool(const LayerSpec& layer, const uint8_t* input, uint8_t* output, ThreadPool& pool);

/** The common YOLO pool: 2x2 windows, stride 2, even input, every window inside the input. */
bool isPlainTwoByTwoMaxPool(const LayerSpec& layer);
/** One output row of that pool: dst[x] = max of top[2x], top[2x + 1], bottom[2x], bottom[2x + 1]. */
template <typename T>
inline void maxPoolTwoByTwoRow(const T* top, const T* bottom, T* dst, size_t width) {
  for (size_t x = 0; x < width; ++x) {
    dst[x] = std::max(std::max(top[2 * x], top[2 * x + 1]), std::max(bottom[2 * x], bottom[2 * x + 1]));
  }
}
void runAveragePool(const LayerSpec& layer, const float* input, float* output);

}  // namespace emofleet
