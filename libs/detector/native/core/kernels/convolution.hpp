// Convolution (incl. grouped and depthwise) with bias and activation.
#pragma once

#include <cstddef>

#include "../network_spec.hpp"
#include "../thread_pool.hpp"
#include "../weights_loader.hpp"

namespace emofleet {

/**
 * Scratch floats the convolution needs. Fused: one im2col tile per worker (`workers` of them);
 * unfused: one whole-layer im2col matrix shared by all workers.
 */
size_t convolutionScratchFloats(const LayerSpec& layer, bool fuse, int workers);

/**
 * Fused ("CBR"): the output is produced in column tiles; each tile is unrolled (im2col, skipped for 1x1
 * stride-1 convolutions), multiplied (SGEMM) and gets bias + activation while it is still in cache — one
 * pass over the output. Unfused: whole-layer im2col, SGEMM, then a bias pass and an activation pass over the
 * whole output (darknet's order), for the fused-vs-unfused comparison. Depthwise layers use a direct kernel.
 */
void runConvolution(const LayerSpec& layer, const LayerParameters& params, const float* input, float* output,
                    float* scratch, ThreadPool& pool, bool fuse);

}  // namespace emofleet
