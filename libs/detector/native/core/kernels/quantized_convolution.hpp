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
#include "int8_epilogue.hpp"
#include "int8_gemm.hpp"

namespace emofleet {

/** A layer the quantisation plan runs in INT8, and the affine uint8 quantisation of its input. */
struct Int8LayerChoice {
  int layer = 0;
  float inputScale = 1;  // real value = (q - zeroPoint) * inputScale
  int inputZeroPoint = 0;
};

/**
 * uint8 input quantisation as every INT8 path here does it: round half up of x / scale + zero point, clamped
 * (NaN gives 0). Both clamps are compare-and-select without a branch, so a loop of them vectorises.
 */
inline uint8_t quantizeToUint8(float x, float inverseScale, float zeroPoint) {
  float v = x * inverseScale + zeroPoint;
  v = v > 0.f ? v : 0.f;
  v = v < 255.f ? v : 255.f;
  return static_cast<uint8_t>(static_cast<int>(v + .5f));
}

/** A layer's input: float NCHW (quantised by the layer), or uint8 NCHW already quantised with its input choice. */
struct Int8Input {
  const float* floats = nullptr;
  const uint8_t* bytes = nullptr;
};

/**
 * A layer's output: float NCHW, or uint8 NCHW quantised (quantizeToUint8) with the scale and zero point of the
 * INT8 layers that read it: the float values those layers would have quantised, without writing them.
 */
struct Int8Output {
  float* floats = nullptr;
  uint8_t* bytes = nullptr;
  float scale = 1;
  int zeroPoint = 0;
};

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
  void run(const float* input, float* output, uint8_t* scratch, ThreadPool& pool) const {
    run(Int8Input{input, nullptr}, Int8Output{output}, scratch, pool);
  }
  /** The same, with either input form and either output form. */
  void run(const Int8Input& input, const Int8Output& output, uint8_t* scratch, ThreadPool& pool) const;

  const Int8LayerChoice& choice() const { return choice_; }

  Int8Kernel kernel() const { return kernel_; }
  const Int8Epilogue& epilogue() const { return epilogue_; }
  const std::vector<float>& weightScales() const { return weightScales_; }

 private:
  struct Geometry {
    Shape input;
    Shape output;
    int size, stride, padding;
  };
  size_t panelColumns() const;
  bool packsWholeLayer(int workers) const;
  size_t paddedInputBytes() const;
  const uint8_t* padInput(const Int8Input& input, uint8_t* padded, ThreadPool& pool) const;
  void packPanel(const uint8_t* padded, size_t firstColumn, size_t columns, uint8_t* panel) const;
  void computePanel(const uint8_t* panel, size_t firstColumn, size_t columns, int firstBlock, int blocks,
                    const Int8Output& output) const;
  void storeTile(const int32_t* tile, int block, size_t column, size_t valid, const Int8Output& output) const;

  Geometry geometry_;
  Activation activation_;
  Int8LayerChoice choice_;
  Int8Kernel kernel_;
  Int8Epilogue epilogue_;
  PackedInt8Weights weights_;
  std::vector<float> weightScales_;
  std::vector<float> outputScales_;      // inputScale * weightScale, per output channel
  std::vector<int32_t> zeroPointTerms_;  // zeroPoint * sum of the channel's int8 weights
  std::vector<float> bias_;
  std::vector<uint8_t> zeroRow_;  // zero points for the taps past the depth: one strip's pixels at the stride
};

}  // namespace emofleet
