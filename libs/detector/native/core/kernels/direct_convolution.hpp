// Direct convolution for dense stride-1 layers, vectorised along the output rows: each output row is computed
// for four filters at a time from zero-padded copies of the input rows it reads, with the accumulators (4
// filters x a run of pixel vectors) held in registers for the whole (channel, ky, kx) sum, and bias +
// activation applied as the row is stored (CBR). No im2col matrix and no transposition: the output is NCHW as
// it leaves the registers. Pays where the layer has few input channels and many pixels (the first layers),
// where im2col + SGEMM spends its time unrolling and Winograd in its transforms.
#pragma once

#include <cstddef>
#include <vector>

#include "../aligned_vector.hpp"
#include "../network_spec.hpp"
#include "../thread_pool.hpp"
#include "../weights_loader.hpp"

namespace emofleet {

/**
 * Whether a fused run gives this convolution to DirectConvolution: dense (groups = 1), stride 1, a kernel larger
 * than 1x1, fewer than 16 input channels (where Winograd's rule declines) and an output at least 52 pixels wide:
 * in the paper's networks, the first layer. The measurements behind it are in direct_convolution.cpp. The engine
 * applies Winograd's rule first.
 */
bool directConvolutionFor(const LayerSpec& layer);

class DirectConvolution {
 public:
  /** Packs the (batch-norm folded) weights in blocks of four filters. Needs groups = 1 and stride 1. */
  DirectConvolution(const LayerSpec& layer, const LayerParameters& params);

  /**
   * Scratch floats run() and runPooled() need for `workers` threads (each: the padded input rows of one output
   * row, and for runPooled two output rows of every filter).
   */
  size_t scratchFloats(int workers) const;

  /** output = activation(conv(input) + bias), NCHW. */
  void run(const float* input, float* output, float* scratch, ThreadPool& pool) const;

  /**
   * pooled = 2x2 stride-2 max pool of activation(conv(input) + bias), without writing the convolution's output:
   * each pair of output rows is computed into scratch and pooled from there (needs an even output height and
   * width). The first layers are wide with few channels, so their outputs are large: writing them and reading
   * them back for the pool was most of those two layers' time.
   */
  void runPooled(const float* input, float* pooled, float* scratch, ThreadPool& pool) const;

 private:
  void padRows(const float* input, int outputRow, float* rows) const;
  /** One output row into output[filter * planeStride + row * width + x]. */
  void computeRow(const float* rows, int outputRow, float* output, size_t planeStride) const;

  Shape input_;
  Shape output_;
  int size_;
  int padding_;
  Activation activation_;
  size_t rowStride_;  // floats per padded input row: the output width rounded up to vectors, + size - 1
  AlignedVector<float> weights_;  // [filter block][channel][ky][kx][4 filters], zero for missing filters
  std::vector<float> bias_;
};

}  // namespace emofleet
