// darknet's [reorg]: not SpaceToDepth. darknet's forward_reorg_layer calls reorg_cpu(input, w, h, c, stride,
// forward=0), which reads the input as if it were (c/stride^2, h*stride, w*stride) and writes the output
// (c*stride^2, h/stride, w/stride) in the order of the layer's input dims. This reproduces that permutation.
#pragma once

#include "../network_spec.hpp"

namespace emofleet {

void runReorg(const LayerSpec& layer, const float* input, float* output);

}  // namespace emofleet
