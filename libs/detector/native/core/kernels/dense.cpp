#include "dense.hpp"

#include <algorithm>
#include <cmath>

#include "activation.hpp"
#include "sgemm.hpp"

namespace emofleet {

void runConnected(const LayerSpec& layer, const LayerParameters& params, const float* input, float* output) {
  const int outputs = layer.connected.outputs;
  sgemv(outputs, static_cast<int>(layer.input.elements()), params.weights.data(), input, output);
  for (int o = 0; o < outputs; ++o) {
    output[o] = activate(output[o] + params.bias[static_cast<size_t>(o)], layer.connected.activation);
  }
}

void runSoftmax(const LayerSpec& layer, const float* input, float* output) {
  const size_t groups = static_cast<size_t>(layer.softmax.groups);
  const size_t size = layer.input.elements() / groups;
  const float temperature = layer.softmax.temperature;
  for (size_t g = 0; g < groups; ++g) {
    const float* x = input + g * size;
    float* y = output + g * size;
    const float largest = *std::max_element(x, x + size);
    float sum = 0;
    for (size_t i = 0; i < size; ++i) {
      y[i] = std::exp(x[i] / temperature - largest / temperature);
      sum += y[i];
    }
    for (size_t i = 0; i < size; ++i) y[i] /= sum;
  }
}

void runShortcut(const LayerSpec& layer, const float* previous, const float* from, float* output) {
  const size_t count = layer.output.elements();
  // Add, then activate in place: two plain loops the compiler vectorises (the switch stays outside them).
  for (size_t i = 0; i < count; ++i) output[i] = previous[i] + from[i];
  activateInPlace(output, count, layer.shortcutActivation);
}

}  // namespace emofleet
