// darknet [maxpool] (window starts at -padding/2, positions outside the input are skipped) and global [avgpool].
#pragma once

#include "../network_spec.hpp"
#include "../thread_pool.hpp"

namespace emofleet {

void runMaxPool(const LayerSpec& layer, const float* input, float* output, ThreadPool& pool);

/** The common YOLO pool: 2x2 windows, stride 2, even input, every window inside the input. */
bool isPlainTwoByTwoMaxPool(const LayerSpec& layer);
void runAveragePool(const LayerSpec& layer, const float* input, float* output);

}  // namespace emofleet
