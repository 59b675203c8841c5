#include "detector_wrap.hpp"

#include "../core/detector_error.hpp"
#include "addon_state.hpp"
#include "arguments.hpp"
#include "promise_worker.hpp"
#include "workers.hpp"

namespace emofleet {
namespace {

constexpr const char* kDisposed = "EMOFLEET_DISPOSED";

Napi::Object shapeObject(Napi::Env env, const Shape& shape) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("channels", shape.channels);
  object.Set("height", shape.height);
  object.Set("width", shape.width);
  return object;
}

/** Runs `start` (which queues a worker and returns its promise); argument errors become a rejected promise. */
template <typename Start>
Napi::Value promiseOf(Napi::Env env, Start start) {
  try {
    return start();
  } catch (const DetectorError& error) {
    return rejectedPromise(env, errorCodeName(error.code()), error.what());
  }
}

}  // namespace

Napi::Function DetectorWrap::define(Napi::Env env) {
  return DefineClass(env, "Detector",
                     {
                         InstanceMethod<&DetectorWrap::detect>("detect"),
                         InstanceMethod<&DetectorWrap::forwardRaw>("forwardRaw"),
                         InstanceMethod<&DetectorWrap::forwardLayers>("forwardLayers"),
                         InstanceMethod<&DetectorWrap::preprocess>("preprocess"),
                         InstanceMethod<&DetectorWrap::info>("info"),
                         InstanceMethod<&DetectorWrap::dispose>("dispose"),
                         InstanceAccessor<&DetectorWrap::disposed>("disposed"),
                     });
}

DetectorWrap::DetectorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DetectorWrap>(info) {
  AddonState* state = info.Env().GetInstanceData<AddonState>();
  if (!state->pendingDetector) {
    codedError(info.Env(), "EMOFLEET_BAD_ARGUMENT", "Detector cannot be constructed directly; use createDetector()")
        .ThrowAsJavaScriptException();
    return;
  }
  detector_ = std::move(state->pendingDetector);
}

Napi::Value DetectorWrap::detect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!detector_) return rejectedPromise(env, kDisposed, "detect() on a disposed detector");
  return promiseOf(env, [&]() -> Napi::Value {
    const Napi::Uint8Array frame = bytesArgument(info, 0, "frame");
    const FrameDescription description = frameArguments(info, 1, frame);
    DetectThresholds thresholds;
    thresholds.score = static_cast<float>(numberArgument(info, 4, "scoreThreshold"));
    thresholds.iou = static_cast<float>(numberArgument(info, 5, "iouThreshold"));
    auto* worker = new DetectWorker(env, detector_, frame, description, thresholds);
    worker->Queue();
    return worker->promise();
  });
}

Napi::Value DetectorWrap::forwardRaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!detector_) return rejectedPromise(env, kDisposed, "forwardRaw() on a disposed detector");
  return promiseOf(env, [&]() -> Napi::Value {
    const Napi::Float32Array input = floatsArgument(info, 0, "input");
    const int layer = integerArgument(info, 1, "layer");
    auto* worker = new ForwardWorker(env, detector_, input, layer);
    worker->Queue();
    return worker->promise();
  });
}

Napi::Value DetectorWrap::preprocess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!detector_) return rejectedPromise(env, kDisposed, "preprocess() on a disposed detector");
  return promiseOf(env, [&]() -> Napi::Value {
    const Napi::Uint8Array frame = bytesArgument(info, 0, "frame");
    const FrameDescription description = frameArguments(info, 1, frame);
    auto* worker = new PreprocessWorker(env, detector_, frame, description);
    worker->Queue();
    return worker->promise();
  });
}

Napi::Value DetectorWrap::info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!detector_) {
    codedError(env, kDisposed, "info() on a disposed detector").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const DetectorInfo& d = detector_->info();
  Napi::Object result = Napi::Object::New(env);
  result.Set("backend", d.backend);
  if (!d.blasCore.empty()) result.Set("blasCore", d.blasCore);
  result.Set("input", shapeObject(env, d.input));
  result.Set("rawOutput", shapeObject(env, d.rawOutput));
  Napi::Array layers = Napi::Array::New(env, d.layers.size());
  for (size_t i = 0; i < d.layers.size(); ++i) {
    const LayerInfo& layer = d.layers[i];
    Napi::Object item = Napi::Object::New(env);
    item.Set("index", layer.index);
    item.Set("type", layerKindName(layer.kind));
    item.Set("cfgLine", layer.cfgLine);
    if (layer.activation != nullptr) item.Set("activation", layer.activation);
    item.Set("output", shapeObject(env, layer.output));
    item.Set("flops", layer.flops);
    layers.Set(static_cast<uint32_t>(i), item);
  }
  result.Set("layers", layers);
  result.Set("activationBytes", static_cast<double>(d.activationBytes));
  result.Set("unplannedActivationBytes", static_cast<double>(d.unplannedActivationBytes));
  result.Set("scratchBytes", static_cast<double>(d.scratchBytes));
  result.Set("flops", d.flops);
  result.Set("threads", d.threads);
  result.Set("fused", d.fused);
  result.Set("hasRegion", d.hasRegion);
  Napi::Array int8Layers = Napi::Array::New(env, d.int8Layers.size());
  for (size_t i = 0; i < d.int8Layers.size(); ++i) int8Layers.Set(static_cast<uint32_t>(i), d.int8Layers[i]);
  result.Set("int8Layers", int8Layers);
  Napi::Array int8Capable = Napi::Array::New(env, d.int8CapableLayers.size());
  for (size_t i = 0; i < d.int8CapableLayers.size(); ++i) int8Capable.Set(static_cast<uint32_t>(i), d.int8CapableLayers[i]);
  result.Set("int8CapableLayers", int8Capable);
  if (!d.int8Kernel.empty()) result.Set("int8Kernel", d.int8Kernel);
  Napi::Array winogradLayers = Napi::Array::New(env, d.winogradLayers.size());
  for (size_t i = 0; i < d.winogradLayers.size(); ++i) {
    Napi::Object item = Napi::Object::New(env);
    item.Set("layer", d.winogradLayers[i].first);
    item.Set("tile", d.winogradLayers[i].second);
    winogradLayers.Set(static_cast<uint32_t>(i), item);
  }
  result.Set("winogradLayers", winogradLayers);
  Napi::Array directLayers = Napi::Array::New(env, d.directLayers.size());
  for (size_t i = 0; i < d.directLayers.size(); ++i) directLayers.Set(static_cast<uint32_t>(i), d.directLayers[i]);
  result.Set("directLayers", directLayers);
  Napi::Array pooledDirectLayers = Napi::Array::New(env, d.pooledDirectLayers.size());
  for (size_t i = 0; i < d.pooledDirectLayers.size(); ++i) {
    pooledDirectLayers.Set(static_cast<uint32_t>(i), d.pooledDirectLayers[i]);
  }
  result.Set("pooledDirectLayers", pooledDirectLayers);
  Napi::Array pointwiseLayers = Napi::Array::New(env, d.pointwiseLayers.size());
  for (size_t i = 0; i < d.pointwiseLayers.size(); ++i) {
    pointwiseLayers.Set(static_cast<uint32_t>(i), d.pointwiseLayers[i]);
  }
  result.Set("pointwiseLayers", pointwiseLayers);
  Napi::Object header = Napi::Object::New(env);
  header.Set("major", d.weightsHeader.major);
  header.Set("minor", d.weightsHeader.minor);
  header.Set("revision", d.weightsHeader.revision);
  header.Set("seen", static_cast<double>(d.weightsHeader.seen));
  result.Set("weightsHeader", header);
  result.Set("inputFit", d.inputFit == InputFit::Letterbox ? "letterbox" : "pad-to-square");
  if (const ClassifierStage* classifier = detector_->classifier()) {
    const ClassifierInfo& c = classifier->info();
    Napi::Object stage = Napi::Object::New(env);
    stage.Set("input", shapeObject(env, c.input));
    stage.Set("classes", c.classes);
    stage.Set("layers", static_cast<double>(c.layers));
    stage.Set("flops", c.flops);
    stage.Set("activationBytes", static_cast<double>(c.activationBytes));
    result.Set("classifier", stage);
  }
  return result;
}

Napi::Value DetectorWrap::dispose(const Napi::CallbackInfo& info) {
  // In-flight calls hold their own reference and finish; the memory goes when the last one completes.
  detector_.reset();
  return info.Env().Undefined();
}

Napi::Value DetectorWrap::disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !detector_);
}

}  // namespace emofleet
