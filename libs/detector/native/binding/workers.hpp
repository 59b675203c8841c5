// The asynchronous operations: JS arguments are copied into plain members on the JS thread, run() works on
// those alone, and the input buffers stay referenced (not copied) until the worker is destroyed.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "../core/detector.hpp"
#include "promise_worker.hpp"

namespace emofleet {

struct ClassifierRequest {
  std::string cfgText;
  NetworkInputSpec input;
  int threads = 0;  // 0: all cores
};

struct CreateRequest {
  std::string cfgText;
  std::string backend;  // "cpu" | "tensorrt"
  DetectorOptions options;
  bool withClassifier = false;
  ClassifierRequest classifier;
};

class CreateWorker : public PromiseWorker {
 public:
  /** `classifierWeights` is read only when request.withClassifier. */
  CreateWorker(Napi::Env env, CreateRequest request, Napi::Uint8Array weights, Napi::Uint8Array classifierWeights);

 protected:
  void run() override;
  Napi::Value result(Napi::Env env) override;

 private:
  CreateRequest request_;
  Napi::Reference<Napi::Uint8Array> weightsReference_;
  const uint8_t* weights_;
  size_t weightsLength_;
  Napi::Reference<Napi::Uint8Array> classifierWeightsReference_;
  const uint8_t* classifierWeights_ = nullptr;
  size_t classifierWeightsLength_ = 0;
  std::shared_ptr<Detector> detector_;
};

class DetectWorker : public PromiseWorker {
 public:
  DetectWorker(Napi::Env env, std::shared_ptr<Detector> detector, Napi::Uint8Array frame,
               const FrameDescription& description, const DetectThresholds& thresholds);

 protected:
  void run() override;
  Napi::Value result(Napi::Env env) override;

 private:
  std::shared_ptr<Detector> detector_;
  Napi::Reference<Napi::Uint8Array> frameReference_;
  const uint8_t* frame_;
  size_t frameLength_;
  FrameDescription description_;
  DetectThresholds thresholds_;
  bool classify_;  // the detector has a classifier stage: detectClassified()
  std::vector<Detection> detections_;
  std::vector<ClassifiedDetection> classified_;
};

class ForwardWorker : public PromiseWorker {
 public:
  ForwardWorker(Napi::Env env, std::shared_ptr<Detector> detector, Napi::Float32Array input, int layer);

 protected:
  void run() override;
  Napi::Value result(Napi::Env env) override;

 private:
  std::shared_ptr<Detector> detector_;
  Napi::Reference<Napi::Float32Array> inputReference_;
  const float* input_;
  size_t inputLength_;
  int layer_;
  std::vector<float> output_;
};

class PreprocessWorker : public PromiseWorker {
 public:
  PreprocessWorker(Napi::Env env, std::shared_ptr<Detector> detector, Napi::Uint8Array frame,
                   const FrameDescription& description);

 protected:
  void run() override;
  Napi::Value result(Napi::Env env) override;

 private:
  std::shared_ptr<Detector> detector_;
  Napi::Reference<Napi::Uint8Array> frameReference_;
  const uint8_t* frame_;
  size_t frameLength_;
  FrameDescription description_;
  std::vector<float> tensor_;
};

/** new Float32Array copy of `values`. */
Napi::Float32Array toFloat32Array(Napi::Env env, const std::vector<float>& values);

}  // namespace emofleet
