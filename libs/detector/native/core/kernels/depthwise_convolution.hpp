// Depthwise convolution (groups = channels = filters): each output plane from one input plane and one kernel.
#pragma once

#include "../network_spec.hpp"
#include "../thread_pool.hpp"
#include "../weights_loader.hpp"

namespace emofleet {

/**
 * Direct depthwise kernel, channels spread over the pool. Each output row is accumulated one kernel tap at a time
 * over the range of columns where that tap reads inside the input (an axpy the compiler vectorises for stride 1),
 * in darknet's tap order, so the sums equal the naive loop's. Fused: bias + activation per row while it is in
 * cache; unfused: a bias pass and an activation pass per plane.
 */
void runDepthwiseConvolution(const LayerSpec& layer, const LayerParameters& params, const float* input, float* output,
                             ThreadPool& pool, bool fuse);

}  // namespace emofleet
