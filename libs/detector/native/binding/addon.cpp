// Module entry: createDetector(cfgText, weights, options) -> Promise<Detector>.
#include <napi.h>

#include "../core/detector_error.hpp"
#include "../core/kernels/sgemm_peak.hpp"
#include "addon_state.hpp"
#include "arguments.hpp"
#include "detector_wrap.hpp"
#include "int8_binding.hpp"
#include "promise_worker.hpp"
#include "workers.hpp"

namespace emofleet {
namespace {

Napi::Value createDetector(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    CreateRequest request;
    request.cfgText = stringArgument(info, 0, "cfg");
    const Napi::Uint8Array weights = bytesArgument(info, 1, "weights");
    if (!info[2].IsObject()) throw DetectorError(ErrorCode::BadArgument, "options must be an object");
    const Napi::Object options = info[2].As<Napi::Object>();
    request.backend = stringOption(options, "backend", "cpu");
    if (request.backend != "cpu" && request.backend != "tensorrt") {
      throw DetectorError(ErrorCode::BadArgument, "backend must be 'cpu' or 'tensorrt', got '" + request.backend + "'");
    }
    const double threads = numberOption(options, "threads", 0);
    if (threads != static_cast<int>(threads) || threads < 0 || threads > 256) {
      throw DetectorError(ErrorCode::BadArgument, "threads must be 0 (all cores) or an integer 1..256");
    }
    request.options.engine.threads = static_cast<int>(threads);
    request.options.engine.fuse = booleanOption(options, "fuse", true);
    const std::string winograd = stringOption(options, "winograd", "auto");
    if (winograd == "auto") {
      request.options.engine.winograd = WinogradMode::Auto;
    } else if (winograd == "off") {
      request.options.engine.winograd = WinogradMode::Off;
    } else if (winograd == "f2") {
      request.options.engine.winograd = WinogradMode::F2;
    } else if (winograd == "f4") {
      request.options.engine.winograd = WinogradMode::F4;
    } else {
      throw DetectorError(ErrorCode::BadArgument, "winograd must be 'auto', 'off', 'f2' or 'f4', got '" + winograd + "'");
    }
    request.options.pipelined = booleanOption(options, "pipelined", true);
    request.options.engine.int8Layers = int8LayersOption(options);
    request.options.input = inputSpecOption(options, "input");
    // The optional second stage: { cfg: string, weights: Uint8Array, input: {...}, threads?: number }.
    Napi::Uint8Array classifierWeights = weights;
    const Napi::Value classifier = options.Get("classifier");
    if (!classifier.IsUndefined()) {
      if (!classifier.IsObject() || classifier.IsArray()) {
        throw DetectorError(ErrorCode::BadArgument, "classifier must be an object ({ cfg, weights, input })");
      }
      const Napi::Object stage = classifier.As<Napi::Object>();
      const Napi::Value cfg = stage.Get("cfg");
      if (!cfg.IsString()) throw DetectorError(ErrorCode::BadArgument, "classifier.cfg must be a string");
      const Napi::Value classifierWeightsValue = stage.Get("weights");
      if (!classifierWeightsValue.IsTypedArray() ||
          classifierWeightsValue.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw DetectorError(ErrorCode::BadArgument, "classifier.weights must be a Buffer or Uint8Array");
      }
      request.withClassifier = true;
      request.classifier.cfgText = cfg.As<Napi::String>().Utf8Value();
      request.classifier.input = inputSpecOption(stage, "input");
      const double classifierThreads = numberOption(stage, "threads", request.options.engine.threads);
      if (classifierThreads != static_cast<int>(classifierThreads) || classifierThreads < 0 || classifierThreads > 256) {
        throw DetectorError(ErrorCode::BadArgument, "classifier.threads must be 0 (all cores) or an integer 1..256");
      }
      request.classifier.threads = static_cast<int>(classifierThreads);
      if (request.classifier.input.fit != InputFit::PadToSquare) {
        throw DetectorError(ErrorCode::BadArgument, "classifier.input must be { fit: 'pad-to-square', ... }");
      }
      classifierWeights = classifierWeightsValue.As<Napi::Uint8Array>();
    }
    auto* worker = new CreateWorker(env, std::move(request), weights, classifierWeights);
    worker->Queue();
    return worker->promise();
  } catch (const DetectorError& error) {
    return rejectedPromise(env, errorCodeName(error.code()), error.what());
  }
}

/** Diagnostics for the benchmark: measureSgemmPeakGflops(threads) -> number (blocks for about a second). */
Napi::Value measureSgemmPeak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    const int threads = integerArgument(info, 0, "threads");
    if (threads < 1 || threads > 256) throw DetectorError(ErrorCode::BadArgument, "threads must be 1..256");
    return Napi::Number::New(env, measureSgemmPeakGflops(threads));
  } catch (const DetectorError& error) {
    codedError(env, errorCodeName(error.code()), error.what()).ThrowAsJavaScriptException();
    return env.Undefined();
  }
}

Napi::Object initialise(Napi::Env env, Napi::Object exports) {
  auto* state = new AddonState();
  state->detectorConstructor = Napi::Persistent(DetectorWrap::define(env));
  env.SetInstanceData<AddonState>(state);
  exports.Set("createDetector", Napi::Function::New(env, createDetector, "createDetector"));
  exports.Set("Detector", state->detectorConstructor.Value());
  exports.Set("measureSgemmPeakGflops", Napi::Function::New(env, measureSgemmPeak, "measureSgemmPeakGflops"));
#ifdef EMOFLEET_WITH_TENSORRT
  exports.Set("backends", Napi::String::New(env, "cpu,tensorrt"));
#else
  exports.Set("backends", Napi::String::New(env, "cpu"));
#endif
  return exports;
}

}  // namespace
}  // namespace emofleet

static Napi::Object initialiseAddon(Napi::Env env, Napi::Object exports) { return emofleet::initialise(env, exports); }

NODE_API_MODULE(emofleet_detector, initialiseAddon)
