// Winograd convolution F(m x m, 3 x 3) for dense 3x3 stride-1 layers: fewer multiplies than im2col + SGEMM.
#pragma once

#include <cstddef>
#include <vector>

#include "../network_spec.hpp"
#include "../thread_pool.hpp"
#include "../weights_loader.hpp"
#include "packed_gemm.hpp"

namespace emofleet {

/** Which convolutions run as Winograd: `Auto` picks per layer (winogradTileFor), `Off` never, F2/F4 force a tile. */
enum class WinogradMode { Auto, Off, F2, F4 };

/** A dense (groups = 1) 3x3 stride-1 convolution whose output is at least 2x2: the layers Winograd can run. */
bool winogradApplies(const LayerSpec& layer);

/**
 * The output tile m (2 or 4) `mode` gives this layer, or 0 for im2col. Auto: at least 16 input channels and 32
 * filters; F(4x4, 3x3) when the output has at least 24x24 pixels, F(2x2, 3x3) below that (the measurements
 * behind this are in winograd_convolution.cpp).
 */
int winogradTileFor(const LayerSpec& layer, WinogradMode mode);

class WinogradConvolution {
 public:
  /**
   * Transforms the (batch-norm folded) kernel once: U = G g G^T per filter and input channel, stored as
   * (m+2)^2 matrices [filters x channels], one per transform coordinate. `tile` is 2 or 4; `pool` (optional)
   * spreads the transform over its threads. `blockTiles` caps the output tiles per block (0: sized by the
   * scratch budget; tests set it to run several blocks).
   */
  WinogradConvolution(const LayerSpec& layer, const LayerParameters& params, int tile, ThreadPool* pool = nullptr,
                      size_t blockTiles = 0);

  /** Scratch floats run() needs (the transformed input and the products of one block of tiles). */
  size_t scratchFloats() const;

  /**
   * output = activation(conv(input) + bias), NCHW. Per block of output tiles: input tiles transformed
   * (B^T d B, written in packedGemm's input layout), one GEMM per transform coordinate (U[xi] x V[xi], with
   * U packed at load; the products come out [tile x filter]), then the output transform (A^T M A, 8 filters
   * at a time) with bias + activation in the same pass (CBR), written straight into the output.
   */
  void run(const float* input, float* output, float* scratch, ThreadPool& pool) const;

  int tile() const { return tile_; }

 private:
  template <int M>
  void transformInput(const float* input, size_t firstTile, size_t tiles, size_t channel, float* v) const;
  template <int M>
  void transformOutput(const float* m, size_t coordinateStride, size_t firstTile, size_t tiles, size_t firstFilter,
                       float* output) const;

  Shape input_;
  Shape output_;
  int padding_;
  Activation activation_;
  int tile_;
  int alpha_;  // tile + 2: side of the transformed tiles
  size_t tilesX_;
  size_t tilesY_;
  size_t blockTiles_;  // output tiles per block
  std::vector<PackedWeights> kernels_;  // alpha^2 of them, [filters x channels] each, packed for packedGemm
  std::vector<float> bias_;
};

}  // namespace emofleet
