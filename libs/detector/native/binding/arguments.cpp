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

}  // namespace emofleet
