#include "arguments.hpp"

#include <cmath>
#include <limits>

#include "../core/detector_error.hpp"

namespace emofleet {
namespace {

[[noreturn]] void badArgument(const char* name, const std::string& expected) {
  throw DetectorError(ErrorCode::BadArgument, std::string(name) + " must be " + expected);
}

}  // namespace

Napi::Uint8Array bytesArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    badArgument(name, "a Buffer or Uint8Array");
  }
  return value.As<Napi::Uint8Array>();
}

Napi::Float32Array floatsArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    badArgument(name, "a Float32Array");
  }
  return value.As<Napi::Float32Array>();
}

double numberArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsNumber() || !std::isfinite(value.As<Napi::Number>().DoubleValue())) badArgument(name, "a finite number");
  return value.As<Napi::Number>().DoubleValue();
}

int integerArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const double value = numberArgument(info, index, name);
  if (value != std::floor(value) || value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
    badArgument(name, "an integer");
  }
  return static_cast<int>(value);
}

std::string stringArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsString()) badArgument(name, "a string");
  return value.As<Napi::String>().Utf8Value();
}

FrameDescription frameArguments(const Napi::CallbackInfo& info, size_t index, const Napi::Uint8Array& frame) {
  FrameDescription description;
  description.width = integerArgument(info, index, "width");
  description.height = integerArgument(info, index + 1, "height");
  description.format = parsePixelFormat(stringArgument(info, index + 2, "format"));
  validateFrame(description, frame.ByteLength());
  return description;
}

double numberOption(const Napi::Object& options, const char* key, double fallback) {
  const Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber() || !std::isfinite(value.As<Napi::Number>().DoubleValue())) badArgument(key, "a finite number");
  return value.As<Napi::Number>().DoubleValue();
}

bool booleanOption(const Napi::Object& options, const char* key, bool fallback) {
  const Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsBoolean()) badArgument(key, "a boolean");
  return value.As<Napi::Boolean>().Value();
}

std::string stringOption(const Napi::Object& options, const char* key, const std::string& fallback) {
  const Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsString()) badArgument(key, "a string");
  return value.As<Napi::String>().Utf8Value();
}

NetworkInputSpec inputSpecOption(const Napi::Object& options, const char* key) {
  NetworkInputSpec spec;
  const Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return spec;
  const std::string name(key);
  if (!value.IsObject() || value.IsArray()) badArgument(key, "an object ({ fit: 'letterbox' | 'pad-to-square', ... })");
  const Napi::Object input = value.As<Napi::Object>();
  const std::string fit = stringOption(input, "fit", "");
  if (fit == "letterbox") return spec;
  if (fit != "pad-to-square") {
    throw DetectorError(ErrorCode::BadArgument, name + ".fit must be 'letterbox' or 'pad-to-square', got '" + fit + "'");
  }
  spec.fit = InputFit::PadToSquare;
  const std::string padding = stringOption(input, "padding", "");
  if (padding == "bottom-right") {
    spec.padding = SquarePadding::BottomRight;
  } else if (padding == "centred") {
    spec.padding = SquarePadding::Centred;
  } else {
    throw DetectorError(ErrorCode::BadArgument,
                        name + ".padding must be 'bottom-right' or 'centred', got '" + padding + "'");
  }
  const Napi::Value mean = input.Get("mean");
  if (!mean.IsArray() || mean.As<Napi::Array>().Length() != 3) {
    throw DetectorError(ErrorCode::BadArgument, name + ".mean must be an array of 3 numbers (R, G, B)");
  }
  for (uint32_t channel = 0; channel < 3; ++channel) {
    const Napi::Value item = mean.As<Napi::Array>().Get(channel);
    if (!item.IsNumber() || !std::isfinite(item.As<Napi::Number>().DoubleValue())) {
      throw DetectorError(ErrorCode::BadArgument, name + ".mean must be an array of 3 finite numbers");
    }
    spec.mean[channel] = static_cast<float>(item.As<Napi::Number>().DoubleValue());
  }
  const Napi::Value scale = input.Get("scale");
  if (!scale.IsNumber() || !std::isfinite(scale.As<Napi::Number>().DoubleValue()) ||
      scale.As<Napi::Number>().DoubleValue() == 0) {
    throw DetectorError(ErrorCode::BadArgument, name + ".scale must be a finite number other than 0");
  }
  spec.scale = static_cast<float>(scale.As<Napi::Number>().DoubleValue());
  return spec;
}

}  // namespace emofleet
