// darknet's activations, and the bias+activation epilogue applied to a row of conv output.
#pragma once

#include <cmath>
#include <cstddef>

#include "../network_spec.hpp"

namespace emofleet {

inline float activate(float x, Activation activation) {
  switch (activation) {
    case Activation::Linear: return x;
    case Activation::Leaky: return x > 0 ? x : .1f * x;
    case Activation::Relu: return x > 0 ? x : 0;
    case Activation::Logistic: return 1.f / (1.f + std::exp(-x));
  }
  return x;
}

/**
 * row[i] = activation(row[i] + bias). The switch is outside the loops so each loop is a plain
 * element-wise kernel the compiler vectorises (SSE/AVX on x86, NEON on aarch64). Leaky is written as
 * max(v, 0.1 v), the same value for every v (NaN and -0 included) as `v > 0 ? v : 0.1 v`: under GCC's default
 * -ftrapping-math a multiply inside one arm of a condition may not be executed speculatively, so that form
 * stayed a scalar loop with a branch per element.
 */
inline void biasActivate(float* row, size_t count, float bias, Activation activation) {
  switch (activation) {
    case Activation::Linear:
      for (size_t i = 0; i < count; ++i) row[i] += bias;
      return;
    case Activation::Leaky:
      for (size_t i = 0; i < count; ++i) {
        const float v = row[i] + bias;
        const float scaled = .1f * v;
        row[i] = v < scaled ? scaled : v;
      }
      return;
    case Activation::Relu:
      for (size_t i = 0; i < count; ++i) {
        const float v = row[i] + bias;
        row[i] = v > 0 ? v : 0.f;
      }
      return;
    case Activation::Logistic:
      for (size_t i = 0; i < count; ++i) row[i] = 1.f / (1.f + std::exp(-(row[i] + bias)));
      return;
  }
}

/** Unfused variant, two passes: add the bias, then activate (what darknet's forward_convolutional does). */
inline void addBias(float* row, size_t count, float bias) {
  for (size_t i = 0; i < count; ++i) row[i] += bias;
}
inline void activateInPlace(float* row, size_t count, Activation activation) {
  biasActivate(row, count, 0.f, activation);
}

}  // namespace emofleet
