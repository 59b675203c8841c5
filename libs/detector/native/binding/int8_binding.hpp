// The INT8 parts of the JS surface: the `int8Layers` option of createDetector and forwardLayers().
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "../core/detector.hpp"
#include "../core/kernels/quantized_convolution.hpp"
#include "promise_worker.hpp"

namespace emofleet {

/**
 * options.int8Layers: an array of { layer, inputScale, inputZeroPoint } (absent: all FP32). Wrong shapes throw
 * DetectorError(BadArgument) naming the element, e.g. `int8Layers[3].inputScale must be a number`.
 */
std::vector<Int8LayerChoice> int8LayersOption(const Napi::Object& options);

/** forwardLayers(input, layers): one inference, a copy of each listed layer's output. */
class ForwardLayersWorker : public PromiseWorker {
 public:
  ForwardLayersWorker(Napi::Env env, std::shared_ptr<Detector> detector, Napi::Float32Array input,
                      std::vector<int> layers);

 protected:
  void run() override;
  Napi::Value result(Napi::Env env) override;

 private:
  std::shared_ptr<Detector> detector_;
  Napi::Reference<Napi::Float32Array> inputReference_;
  const float* input_;
  size_t inputLength_;
  std::vector<int> layers_;
  std::vector<std::vector<float>> outputs_;
};

/** Reads the layer list argument of forwardLayers (an array of integers). */
std::vector<int> layerListArgument(const Napi::CallbackInfo& info, size_t index);

}  // namespace emofleet
