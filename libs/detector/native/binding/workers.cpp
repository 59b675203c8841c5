#include "workers.hpp"

#include <cstring>

#include "../core/detector_error.hpp"
#include "addon_state.hpp"
#ifdef EMOFLEET_WITH_TENSORRT
#include "../backends/tensorrt_backend.hpp"
#endif

namespace emofleet {

Napi::Float32Array toFloat32Array(Napi::Env env, const std::vector<float>& values) {
  Napi::Float32Array array = Napi::Float32Array::New(env, values.size());
  if (!values.empty()) std::memcpy(array.Data(), values.data(), values.size() * sizeof(float));
  return array;
}

CreateWorker::CreateWorker(Napi::Env env, CreateRequest request, Napi::Uint8Array weights,
                           Napi::Uint8Array classifierWeights)
    : PromiseWorker(env, "emofleet:createDetector"),
      request_(std::move(request)),
      weightsReference_(Napi::Persistent(weights)),
      weights_(weights.Data()),
      weightsLength_(weights.ByteLength()) {
  if (request_.withClassifier) {
    classifierWeightsReference_ = Napi::Persistent(classifierWeights);
    classifierWeights_ = classifierWeights.Data();
    classifierWeightsLength_ = classifierWeights.ByteLength();
  }
}

void CreateWorker::run() {
  std::unique_ptr<Detector> detector;
  if (request_.backend == "cpu") {
    detector = Detector::createCpu(request_.cfgText, weights_, weightsLength_, request_.options);
  } else {
#ifdef EMOFLEET_WITH_TENSORRT
    NetworkSpec spec = parseNetworkCfg(request_.cfgText);
    auto backend = std::make_unique<TensorRtBackend>(weights_, weightsLength_, spec);
    const WeightsHeader noWeights{};
    detector = std::make_unique<Detector>(std::move(spec), noWeights, std::move(backend), request_.options);
#else
    throw DetectorError(ErrorCode::Unsupported,
                        "this build has no TensorRT backend (TensorRT headers were not found when it was compiled)");
#endif
  }
  if (request_.withClassifier) {
    // Its own threads, the detector's fusion and Winograd mode; per-layer choices (e.g. INT8 layers) belong to the detector's network.
    EngineOptions classifierEngine;
    classifierEngine.threads = request_.classifier.threads;
    classifierEngine.fuse = request_.options.engine.fuse;
    classifierEngine.winograd = request_.options.engine.winograd;
    detector->setClassifier(std::make_unique<ClassifierStage>(request_.classifier.cfgText, classifierWeights_,
                                                              classifierWeightsLength_, request_.classifier.input,
                                                              classifierEngine));
  }
  detector_ = std::move(detector);
}

Napi::Value CreateWorker::result(Napi::Env env) {
  AddonState* state = env.GetInstanceData<AddonState>();
  state->pendingDetector = std::move(detector_);
  return state->detectorConstructor.New({});
}

DetectWorker::DetectWorker(Napi::Env env, std::shared_ptr<Detector> detector, Napi::Uint8Array frame,
                           const FrameDescription& description, const DetectThresholds& thresholds)
    : PromiseWorker(env, "emofleet:detect"),
      detector_(std::move(detector)),
      frameReference_(Napi::Persistent(frame)),
      frame_(frame.Data()),
      frameLength_(frame.ByteLength()),
      description_(description),
      thresholds_(thresholds),
      classify_(detector_->classifier() != nullptr) {}

void DetectWorker::run() {
  if (classify_) {
    classified_ = detector_->detectClassified(frame_, frameLength_, description_, thresholds_);
  } else {
    detections_ = detector_->detect(frame_, frameLength_, description_, thresholds_);
  }
}

namespace {

Napi::Object detectionObject(Napi::Env env, const Detection& d) {
  Napi::Object item = Napi::Object::New(env);
  item.Set("classId", Napi::Number::New(env, d.classId));
  item.Set("score", Napi::Number::New(env, d.score));
  item.Set("x", Napi::Number::New(env, d.box.x));
  item.Set("y", Napi::Number::New(env, d.box.y));
  item.Set("width", Napi::Number::New(env, d.box.width));
  item.Set("height", Napi::Number::New(env, d.box.height));
  return item;
}

}  // namespace

Napi::Value DetectWorker::result(Napi::Env env) {
  if (!classify_) {
    Napi::Array array = Napi::Array::New(env, detections_.size());
    for (size_t i = 0; i < detections_.size(); ++i) {
      array.Set(static_cast<uint32_t>(i), detectionObject(env, detections_[i]));
    }
    return array;
  }
  Napi::Array array = Napi::Array::New(env, classified_.size());
  for (size_t i = 0; i < classified_.size(); ++i) {
    const ClassifiedDetection& c = classified_[i];
    Napi::Object item = detectionObject(env, c.detection);
    item.Set("detectorClassId", Napi::Number::New(env, c.detectorClassId));
    item.Set("detectorScore", Napi::Number::New(env, c.detectorScore));
    item.Set("scores", toFloat32Array(env, c.scores));
    array.Set(static_cast<uint32_t>(i), item);
  }
  return array;
}

ForwardWorker::ForwardWorker(Napi::Env env, std::shared_ptr<Detector> detector, Napi::Float32Array input, int layer)
    : PromiseWorker(env, "emofleet:forwardRaw"),
      detector_(std::move(detector)),
      inputReference_(Napi::Persistent(input)),
      input_(input.Data()),
      inputLength_(input.ElementLength()),
      layer_(layer) {}

void ForwardWorker::run() { output_ = detector_->forwardRaw(input_, inputLength_, layer_); }

Napi::Value ForwardWorker::result(Napi::Env env) { return toFloat32Array(env, output_); }

PreprocessWorker::PreprocessWorker(Napi::Env env, std::shared_ptr<Detector> detector, Napi::Uint8Array frame,
                                   const FrameDescription& description)
    : PromiseWorker(env, "emofleet:preprocess"),
      detector_(std::move(detector)),
      frameReference_(Napi::Persistent(frame)),
      frame_(frame.Data()),
      frameLength_(frame.ByteLength()),
      description_(description) {}

void PreprocessWorker::run() { tensor_ = detector_->preprocess(frame_, frameLength_, description_); }

Napi::Value PreprocessWorker::result(Napi::Env env) { return toFloat32Array(env, tensor_); }

}  // namespace emofleet
