// What every backend (cpu here, tensorrt on a Jetson) provides; pre- and post-processing live outside.
#pragma once

#include "network_spec.hpp"

namespace emofleet {

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  virtual const char* name() const = 0;
  /**
   * Runs the network on `input` (the cfg's input shape, NCHW) and returns the raw output of the last layer
   * before [region] (the last layer when there is none). The caller may post-process it in place; valid until
   * the next call; not thread-safe.
   */
  virtual float* infer(const float* input) = 0;
  virtual Shape outputShape() const = 0;
};

}  // namespace emofleet
