// The tensorrt backend: runs a serialized TensorRT engine (built by trtexec from libs/darknet's export) on
// the Jetson's GPU. Compiled only where TensorRT headers exist (binding.gyp); UNVERIFIED until run on a Jetson.
// Written against the TensorRT 8.2 API (JetPack 4.6): IRuntime::deserializeCudaEngine, enqueueV2.
#pragma once

#include <cuda_runtime_api.h>

#include <NvInfer.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "../core/inference_backend.hpp"
#include "../core/network_spec.hpp"

namespace emofleet {

class TensorRtBackend : public InferenceBackend {
 public:
  /** `plan`: the engine bytes; `spec`: the cfg the engine was built from (input shape, raw output shape). */
  TensorRtBackend(const uint8_t* plan, size_t planLength, const NetworkSpec& spec);
  ~TensorRtBackend() override;

  const char* name() const override { return "tensorrt"; }
  float* infer(const float* input) override;
  Shape outputShape() const override { return output_; }

 private:
  class Logger : public nvinfer1::ILogger {
    void log(Severity severity, const char* message) noexcept override;
  };

  Logger logger_;
  std::unique_ptr<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine> engine_;
  std::unique_ptr<nvinfer1::IExecutionContext> context_;
  Shape input_;
  Shape output_;
  int inputBinding_ = 0;
  int outputBinding_ = 1;
  void* deviceInput_ = nullptr;
  void* deviceOutput_ = nullptr;
  cudaStream_t stream_ = nullptr;
  std::vector<float> hostOutput_;
};

}  // namespace emofleet
