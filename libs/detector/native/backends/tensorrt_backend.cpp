#include "tensorrt_backend.hpp"

#include <cstdio>
#include <string>

#include "../core/detector_error.hpp"

namespace emofleet {
namespace {

void checkCuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw DetectorError(ErrorCode::Internal, std::string("tensorrt: ") + what + ": " + cudaGetErrorString(status));
  }
}

size_t volume(const nvinfer1::Dims& dims) {
  size_t count = 1;
  for (int i = 0; i < dims.nbDims; ++i) count *= static_cast<size_t>(dims.d[i] < 0 ? 0 : dims.d[i]);
  return count;
}

Shape rawOutputShape(const NetworkSpec& spec) {
  const bool endsInRegion = spec.layers.back().kind == LayerKind::Region;
  return endsInRegion ? spec.layers.back().input : spec.layers.back().output;
}

}  // namespace

void TensorRtBackend::Logger::log(Severity severity, const char* message) noexcept {
  if (severity <= Severity::kWARNING) std::fprintf(stderr, "[emofleet tensorrt] %s\n", message);
}

TensorRtBackend::TensorRtBackend(const uint8_t* plan, size_t planLength, const NetworkSpec& spec)
    : input_(spec.input), output_(rawOutputShape(spec)) {
  runtime_.reset(nvinfer1::createInferRuntime(logger_));
  if (!runtime_) throw DetectorError(ErrorCode::Internal, "tensorrt: createInferRuntime failed");
  engine_.reset(runtime_->deserializeCudaEngine(plan, planLength));
  if (!engine_) throw DetectorError(ErrorCode::BadWeights, "tensorrt: the engine file could not be deserialized");
  if (engine_->getNbBindings() != 2) {
    throw DetectorError(ErrorCode::BadWeights, "tensorrt: expected 2 bindings (input, output), the engine has " +
                                                   std::to_string(engine_->getNbBindings()));
  }
  inputBinding_ = engine_->bindingIsInput(0) ? 0 : 1;
  outputBinding_ = 1 - inputBinding_;
  if (volume(engine_->getBindingDimensions(inputBinding_)) != input_.elements() ||
      volume(engine_->getBindingDimensions(outputBinding_)) != output_.elements()) {
    throw DetectorError(ErrorCode::BadWeights, "tensorrt: engine binding sizes do not match the cfg's input (" +
                                                   std::to_string(input_.elements()) + " floats) and raw output (" +
                                                   std::to_string(output_.elements()) + " floats)");
  }
  context_.reset(engine_->createExecutionContext());
  if (!context_) throw DetectorError(ErrorCode::Internal, "tensorrt: createExecutionContext failed");
  checkCuda(cudaMalloc(&deviceInput_, input_.elements() * sizeof(float)), "cudaMalloc input");
  checkCuda(cudaMalloc(&deviceOutput_, output_.elements() * sizeof(float)), "cudaMalloc output");
  checkCuda(cudaStreamCreate(&stream_), "cudaStreamCreate");
  hostOutput_.resize(output_.elements());
}

TensorRtBackend::~TensorRtBackend() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  cudaFree(deviceInput_);
  cudaFree(deviceOutput_);
}

float* TensorRtBackend::infer(const float* input) {
  void* bindings[2];
  bindings[inputBinding_] = deviceInput_;
  bindings[outputBinding_] = deviceOutput_;
  checkCuda(cudaMemcpyAsync(deviceInput_, input, input_.elements() * sizeof(float), cudaMemcpyHostToDevice, stream_),
            "copy input");
  if (!context_->enqueueV2(bindings, stream_, nullptr)) {
    throw DetectorError(ErrorCode::Internal, "tensorrt: enqueueV2 failed");
  }
  checkCuda(cudaMemcpyAsync(hostOutput_.data(), deviceOutput_, output_.elements() * sizeof(float),
                            cudaMemcpyDeviceToHost, stream_),
            "copy output");
  checkCuda(cudaStreamSynchronize(stream_), "synchronize");
  return hostOutput_.data();
}

}  // namespace emofleet
