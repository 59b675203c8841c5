// The JS `Detector` class: every inference is a Promise; dispose() releases the native detector.
#pragma once

#include <napi.h>

#include <memory>

#include "../core/detector.hpp"

namespace emofleet {

class DetectorWrap : public Napi::ObjectWrap<DetectorWrap> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit DetectorWrap(const Napi::CallbackInfo& info);

 private:
  /** detect(frame: Uint8Array, width, height, format, scoreThreshold, iouThreshold): Promise<RawDetection[]> */
  Napi::Value detect(const Napi::CallbackInfo& info);
  /** forwardRaw(input: Float32Array, layer: number): Promise<Float32Array>; layer -1 = input of [region] */
  Napi::Value forwardRaw(const Napi::CallbackInfo& info);
  /** forwardLayers(input: Float32Array, layers: number[]): Promise<Float32Array[]> (int8_binding.cpp) */
  Napi::Value forwardLayers(const Napi::CallbackInfo& info);
  /** preprocess(frame, width, height, format): Promise<Float32Array> (the letterboxed network input) */
  Napi::Value preprocess(const Napi::CallbackInfo& info);
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value disposed(const Napi::CallbackInfo& info);

  std::shared_ptr<Detector> detector_;
};

}  // namespace emofleet
