// darknet [maxpool] (window starts at -padding/2, positions outside the input are skipped) and global [avgpool].
#pragma once

#include "../network_spec.hpp"
#include "../thread_pool.hpp"

namespace emofleet {

void runMaxPool(const LayerSpec& layer, const float* input, float* output, ThreadPool& pool);
void runAveragePool(const LayerSpec& layer, const float* input, float* output);

}  // namespace emofleet
