// darknet [maxpool] (window starts at -padding/2, positions outside the input are skipped) and global [avgpool].
#pragma once

#include <algorithm>
#include <cstddef>

#include "../network_spec.hpp"
#include "../thread_pool.hpp"

namespace emofleet {

void runMaxPool(const LayerSpec& layer, const float* input, float* output, ThreadPool& pool);

/** The common YOLO pool: 2x2 windows, stride 2, even input, every window inside the input. */
bool isPlainTwoByTwoMaxPool(const LayerSpec& layer);
/** One output row of that pool: dst[x] = max of top[2x], top[2x + 1], bottom[2x], bottom[2x + 1]. */
inline void maxPoolTwoByTwoRow(const float* top, const float* bottom, float* dst, size_t width) {
  for (size_t x = 0; x < width; ++x) {
    dst[x] = std::max(std::max(top[2 * x], top[2 * x + 1]), std::max(bottom[2 * x], bottom[2 * x + 1]));
  }
}
void runAveragePool(const LayerSpec& layer, const float* input, float* output);

}  // namespace emofleet
