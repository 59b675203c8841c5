// A convolution run in INT8: per-output-channel symmetric int8 weights, the input quantised to uint8 with one
// (scale, zero point) per tensor, int32 accumulation, and dequantisation + bias + activation in the epilogue
// of each micro-tile while it is in cache (the CBR idea in integers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../network_spec.hpp"
#include "../thread_pool.hpp"
#include "../weights_loader.hpp"
#include "int8_gemm.hpp"

namespace emofleet {

/** A layer the quantisation plan runs in INT8, and the affine uint8 quantisation of its input. */
struct Int8LayerChoice {
  int layer = 0;
  float inputScale = 1;  // real value = (q - zeroPoint) * inputScale
  int inputZeroPoint = 0;
};

/** uint8 input quantisation as every INT8 path here does it: round half up of x / scale + zero point, clamped. */
inline uint8_t quantizeToUint8(float x, float inverseScale, float zeroPoint) {
  float v = x * inverseScale + zeroPoint;
  v = v < 0.f ? 0.f : (v > 255.f ? 255.f : v);
  return static_cast<uint8_t>(static_cast<int>(v + .5f));
}

/** Layers among the first `executed` that QuantizedConvolution accepts: dense (groups=1) convolutions. */
std::vector<int> int8CapableLayers(const NetworkSpec& spec, size_t executed);

class QuantizedConvolution {
 public:
  /**
   * Quantises `params` (weights after batch-norm folding) per output channel: scale = max|w| / 127. Throws
   * DetectorError(BadArgument) naming the layer when it cannot run in INT8 (not a dense convolution, a bad
   * scale or zero point, or a depth whose int32 sums could overflow).
   */
  QuantizedConvolution(const LayerSpec& layer, const LayerParameters& params, const Int8LayerChoice& choice,
                       Int8Kernel kernel);

  /** Scratch bytes run() needs with `workers` threads. */
  size_t scratchBytes(int workers) const;

  /** output = activation(dequantised int8 convolution of input + bias), NCHW float, like runConvolution. */
  void run(const float* input, float* output, uint8_t* scratch, ThreadPool& pool) const;

  Int8Kernel kernel() const { return kernel_; }
  const std::vector<float>& weightScales() const { return weightScales_; }

 private:
  struct Geometry {
    Shape input;
    Shape output;
    int size, stride, padding;
  };
  size_t panelColumns() const;
  bool packsWholeLayer(int workers) const;
  void quantizeInput(const float* input, uint8_t* quantized, ThreadPool& pool) const;
  void packPanel(const uint8_t* quantized, size_t firstColumn, size_t columns, uint8_t* rows, uint8_t* panel) const;
  void computePanel(const uint8_t* panel, size_t firstColumn, size_t columns, int firstBlock, int blocks,
                    float* output) const;

  Geometry geometry_;
  Activation activation_;
  Int8LayerChoice choice_;
  Int8Kernel kernel_;
  PackedInt8Weights weights_;
  std::vector<float> weightScales_;
  std::vector<float> outputScales_;      // inputScale * weightScale, per output channel
  std::vector<int32_t> zeroPointTerms_;  // zeroPoint * sum of the channel's int8 weights
  std::vector<float> bias_;
};

}  // namespace emofleet
