// The CPU backend: runs a parsed darknet network with planned activation memory and a thread pool.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "activation_plan.hpp"
#include "aligned_vector.hpp"
#include "inference_backend.hpp"
#include "kernels/quantized_convolution.hpp"
#include "kernels/direct_convolution.hpp"
#include "kernels/pointwise_convolution.hpp"
#include "kernels/winograd_convolution.hpp"
#include "network_spec.hpp"
#include "thread_pool.hpp"
#include "weights_loader.hpp"

namespace emofleet {

struct EngineOptions {
  int threads = 0;    // 0: all hardware threads
  bool fuse = true;   // CBR fusion + routes written in place; false: darknet-style separate passes and copies
  std::vector<Int8LayerChoice> int8Layers{};  // convolutions the quantisation plan runs in INT8 (empty: all FP32)
  WinogradMode winograd = WinogradMode::Auto;  // 3x3 stride-1 convolutions as Winograd (fused runs only)
};

class CpuEngine : public InferenceBackend {
 public:
  CpuEngine(NetworkSpec spec, LoadedWeights weights, const EngineOptions& options);

  const char* name() const override { return "cpu"; }
  float* infer(const float* input) override;
  Shape outputShape() const override;

  /** Runs like infer() and copies layer `layer`'s output into `tap` (layer < executedLayers()). */
  float* inferWithTap(const float* input, int layer, std::vector<float>& tap);
  /** One run; taps[i] is a copy of layer layers[i]'s output (each < executedLayers()). */
  void inferWithTaps(const float* input, const std::vector<int>& layers, std::vector<std::vector<float>>& taps);
  /** Runs like infer(); layerSeconds[i] is layer i's wall time (for profiling tools). */
  float* inferTimed(const float* input, std::vector<double>& layerSeconds);

  const NetworkSpec& spec() const { return spec_; }
  size_t executedLayers() const { return executed_; }
  size_t activationBytes() const { return plan_.arenaFloats * sizeof(float); }
  size_t unplannedActivationBytes() const { return plan_.unplannedFloats * sizeof(float); }
  size_t scratchBytes() const { return scratch_.size() * sizeof(float); }
  int threads() const { return pool_.size(); }
  bool fused() const { return options_.fuse; }
  /** Indices of the layers that run in INT8, and the INT8 kernel they use ("" when none does). */
  std::vector<int> int8LayerIndices() const;
  const char* int8KernelName() const;
  /** Layers that run as Winograd convolutions and their output tile (2 or 4), in layer order. */
  std::vector<std::pair<int, int>> winogradLayers() const;
  /** Layers that run on the direct convolution kernel, in layer order. */
  std::vector<int> directLayers() const;
  /** Pointwise (1x1) layers that run on packedGemm with weights packed at load, in layer order. */
  std::vector<int> pointwiseLayers() const;
  /**
   * Direct-kernel layers that infer() runs fused with the 2x2 max pool after them (their own output is never
   * written; runs with taps still write it).
   */
  std::vector<int> pooledDirectLayers() const;
  /**
   * Layers whose output infer() keeps as uint8, quantised for the INT8 convolution that reads it: INT8
   * convolutions read only by an INT8 convolution, directly or through max pools, and those pools. Runs with
   * taps, and `fuse: false` runs, write floats.
   */
  std::vector<int> byteOutputLayers() const;

 private:
  const float* layerOutput(size_t layer) const;
  float* layerOutput(size_t layer);
  const float* layerInput(const float* networkInput, int producer) const;
  /**
   * fused: run a pool-fused convolution pooled and skip its pool, and keep byte-output layers' outputs as
   * uint8 (false: every layer writes its own float output, as taps expect).
   */
  void runLayer(size_t index, const float* networkInput, bool fused);
  bool canFusePool(size_t index) const;
  void planByteOutputs();
  bool collectInt8Readers(size_t layer, const std::vector<std::vector<size_t>>& consumers, std::vector<size_t>& pools,
                          std::vector<size_t>& readers) const;

  NetworkSpec spec_;
  LoadedWeights weights_;
  EngineOptions options_;
  size_t executed_;
  ActivationPlan plan_;
  AlignedVector<float> arena_;
  AlignedVector<float> scratch_;
  std::vector<std::unique_ptr<QuantizedConvolution>> quantized_;  // per layer; null where FP32
  AlignedVector<uint8_t> int8Scratch_;
  std::vector<std::unique_ptr<WinogradConvolution>> winograd_;  // per layer; null where not Winograd
  std::vector<std::unique_ptr<DirectConvolution>> direct_;      // per layer; null where not the direct kernel
  std::vector<std::unique_ptr<PointwiseConvolution>> pointwise_;  // per layer; null where not on packedGemm
  std::vector<bool> poolFused_;  // per layer: a direct convolution infer() runs fused with the pool after it
  std::vector<bool> byteOutput_;  // per layer: infer() keeps its output as uint8 (byteOutputLayers)
  std::vector<Int8LayerChoice> byteQuantization_;  // per byte-output convolution: its readers' input quantisation
  ThreadPool pool_;
};

}  // namespace emofleet
