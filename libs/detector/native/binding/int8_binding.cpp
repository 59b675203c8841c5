#include "int8_binding.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "../core/detector_error.hpp"
#include "detector_wrap.hpp"

namespace emofleet {
namespace {

double numberProperty(const Napi::Object& object, const char* key, const std::string& where) {
  const Napi::Value value = object.Get(key);
  if (!value.IsNumber() || !std::isfinite(value.As<Napi::Number>().DoubleValue())) {
    throw DetectorError(ErrorCode::BadArgument, where + "." + key + " must be a finite number");
  }
  return value.As<Napi::Number>().DoubleValue();
}

}  // namespace

std::vector<Int8LayerChoice> int8LayersOption(const Napi::Object& options) {
  const Napi::Value value = options.Get("int8Layers");
  std::vector<Int8LayerChoice> choices;
  if (value.IsUndefined()) return choices;
  if (!value.IsArray()) throw DetectorError(ErrorCode::BadArgument, "int8Layers must be an array");
  const Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const std::string where = "int8Layers[" + std::to_string(i) + "]";
    const Napi::Value item = array.Get(i);
    if (!item.IsObject()) throw DetectorError(ErrorCode::BadArgument, where + " must be an object");
    const Napi::Object object = item.As<Napi::Object>();
    const double layer = numberProperty(object, "layer", where);
    const double zeroPoint = numberProperty(object, "inputZeroPoint", where);
    if (layer != std::floor(layer) || zeroPoint != std::floor(zeroPoint)) {
      throw DetectorError(ErrorCode::BadArgument, where + ".layer and .inputZeroPoint must be integers");
    }
    Int8LayerChoice choice;
    choice.layer = static_cast<int>(layer);
    choice.inputScale = static_cast<float>(numberProperty(object, "inputScale", where));
    choice.inputZeroPoint = static_cast<int>(zeroPoint);
    choices.push_back(choice);
  }
  return choices;
}

std::vector<int> layerListArgument(const Napi::CallbackInfo& info, size_t index) {
  const Napi::Value value = info[index];
  if (!value.IsArray()) throw DetectorError(ErrorCode::BadArgument, "layers must be an array of layer indices");
  const Napi::Array array = value.As<Napi::Array>();
  std::vector<int> layers;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const Napi::Value item = array.Get(i);
    const double number = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : std::nan("");
    if (!(number == std::floor(number)) || number < 0 || number > 1e6) {
      throw DetectorError(ErrorCode::BadArgument, "layers[" + std::to_string(i) + "] must be a layer index");
    }
    layers.push_back(static_cast<int>(number));
  }
  return layers;
}

ForwardLayersWorker::ForwardLayersWorker(Napi::Env env, std::shared_ptr<Detector> detector, Napi::Float32Array input,
                                         std::vector<int> layers)
    : PromiseWorker(env, "emofleet:forwardLayers"),
      detector_(std::move(detector)),
      inputReference_(Napi::Persistent(input)),
      input_(input.Data()),
      inputLength_(input.ElementLength()),
      layers_(std::move(layers)) {}

void ForwardLayersWorker::run() { outputs_ = detector_->forwardLayers(input_, inputLength_, layers_); }

Napi::Value ForwardLayersWorker::result(Napi::Env env) {
  Napi::Array array = Napi::Array::New(env, outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    Napi::Float32Array output = Napi::Float32Array::New(env, outputs_[i].size());
    if (!outputs_[i].empty()) std::memcpy(output.Data(), outputs_[i].data(), outputs_[i].size() * sizeof(float));
    array.Set(static_cast<uint32_t>(i), output);
  }
  return array;
}

Napi::Value DetectorWrap::forwardLayers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!detector_) return rejectedPromise(env, "EMOFLEET_DISPOSED", "forwardLayers() on a disposed detector");
  try {
    const Napi::Value input = info[0];
    if (!input.IsTypedArray() || input.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw DetectorError(ErrorCode::BadArgument, "input must be a Float32Array");
    }
    auto* worker = new ForwardLayersWorker(env, detector_, input.As<Napi::Float32Array>(), layerListArgument(info, 1));
    worker->Queue();
    return worker->promise();
  } catch (const DetectorError& error) {
    return rejectedPromise(env, errorCodeName(error.code()), error.what());
  }
}

}  // namespace emofleet
