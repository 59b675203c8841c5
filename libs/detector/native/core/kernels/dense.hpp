// Layers that treat their input as a flat vector: [connected], [softmax], and the element-wise [shortcut].
#pragma once

#include "../network_spec.hpp"
#include "../weights_loader.hpp"

namespace emofleet {

/** y = activation(W x + b) with batch norm already folded into W and b. */
void runConnected(const LayerSpec& layer, const LayerParameters& params, const float* input, float* output);

/** darknet softmax_cpu: `groups` contiguous groups, each softmax(x / temperature) with max subtraction. */
void runSoftmax(const LayerSpec& layer, const float* input, float* output);

/** out = activation(previous + from), same shapes. */
void runShortcut(const LayerSpec& layer, const float* previous, const float* from, float* output);

}  // namespace emofleet
