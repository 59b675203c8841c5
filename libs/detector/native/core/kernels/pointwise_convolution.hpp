// Pointwise (1x1, stride 1, unpadded, dense) convolution on packedGemm: the weights are packed once at load,
// where im2col's path hands OpenBLAS the raw weights and OpenBLAS packs them again on every call. On the paper's
// 1x1 variant these layers are half of the network's convolutions, most of them at 13x13 and 26x26, where each
// call has only 169-676 columns to spread that packing over.
#pragma once

#include <cstddef>
#include <vector>

#include "../network_spec.hpp"
#include "../thread_pool.hpp"
#include "../weights_loader.hpp"
#include "packed_gemm.hpp"

namespace emofleet {

/**
 * Whether a fused run gives this convolution to PointwiseConvolution: dense (groups = 1), 1x1, stride 1, no
 * padding, at least 64 input channels and 128 filters, at most 32x32 output pixels (the measurements behind the
 * bounds are in pointwise_convolution.cpp).
 */
bool pointwiseConvolutionFor(const LayerSpec& layer);

class PointwiseConvolution {
 public:
  /**
   * Packs the (batch-norm folded) weights for packedGemm. Needs a dense 1x1 stride-1 layer without padding.
   * `blockColumns` caps the output pixels per block (0: sized by the scratch budget; tests set it to run several
   * blocks; rounded up to whole input panels).
   */
  PointwiseConvolution(const LayerSpec& layer, const LayerParameters& params, size_t blockColumns = 0);

  /** Scratch floats run() needs: one block of packed input columns and their products. */
  size_t scratchFloats() const;

  /**
   * output = activation(conv(input) + bias), NCHW. Per block of output pixels: the input columns packed into
   * packedGemm's panels, the products computed [pixel x filter], then transposed into the output planes with
   * bias + activation in the same pass (CBR), each work item storing its own products while they are in cache.
   */
  void run(const float* input, float* output, float* scratch, ThreadPool& pool) const;

 private:
  void packColumns(const float* input, size_t firstColumn, size_t firstPanel, size_t lastPanel, size_t columns,
                   float* packed) const;
  void storeTransposed(const float* products, size_t firstColumn, size_t columns, size_t firstFilter,
                       size_t lastFilter, float* output) const;

  size_t channels_;
  size_t filters_;
  size_t pixels_;
  Activation activation_;
  size_t blockColumns_;  // output pixels per block (a multiple of kPanelColumns, or all of them)
  PackedWeights weights_;
  std::vector<float> bias_;
};

}  // namespace emofleet
