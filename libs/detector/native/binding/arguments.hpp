// Reading JS arguments on the JS thread; wrong types throw DetectorError(BadArgument) naming the argument.
#pragma once

#include <napi.h>

#include <string>

#include "../core/frame_preprocessor.hpp"
#include "../core/square_input.hpp"

namespace emofleet {

Napi::Uint8Array bytesArgument(const Napi::CallbackInfo& info, size_t index, const char* name);
Napi::Float32Array floatsArgument(const Napi::CallbackInfo& info, size_t index, const char* name);
int integerArgument(const Napi::CallbackInfo& info, size_t index, const char* name);
double numberArgument(const Napi::CallbackInfo& info, size_t index, const char* name);
std::string stringArgument(const Napi::CallbackInfo& info, size_t index, const char* name);
/** Arguments (frame, width, height, format) starting at `index`; also checks the frame's byte length. */
FrameDescription frameArguments(const Napi::CallbackInfo& info, size_t index, const Napi::Uint8Array& frame);

/** An optional property of an options object, or `fallback` when it is undefined. */
double numberOption(const Napi::Object& options, const char* key, double fallback);
bool booleanOption(const Napi::Object& options, const char* key, bool fallback);
std::string stringOption(const Napi::Object& options, const char* key, const std::string& fallback);
/**
 * `options[key]`: undefined (darknet's letterbox), or { fit: 'letterbox' } or
 * { fit: 'pad-to-square', padding: 'bottom-right' | 'centred', mean: [r, g, b], scale }.
 */
NetworkInputSpec inputSpecOption(const Napi::Object& options, const char* key);

}  // namespace emofleet
