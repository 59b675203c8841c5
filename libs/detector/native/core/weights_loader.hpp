// darknet .weights: header, then per weighted layer biases, [batch-norm scales, means, variances], kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "network_spec.hpp"

namespace emofleet {

struct WeightsHeader {
  int32_t major = 0;
  int32_t minor = 0;
  int32_t revision = 0;
  uint64_t seen = 0;  // images seen in training: 64-bit when major*10+minor >= 2, else 32-bit
  size_t byteLength = 0;
};

/** A layer's parameters after batch norm is folded: kernel rows (one per output channel) and a bias. */
struct LayerParameters {
  std::vector<float> weights;
  std::vector<float> bias;
};

struct LoadedWeights {
  WeightsHeader header;
  std::vector<LayerParameters> layers;  // one per layer; empty for layers without weights
};

/** Reads the header alone; throws BadWeights if the buffer is too short. */
WeightsHeader readWeightsHeader(const uint8_t* data, size_t size);

/** Total bytes a weights file for `spec` must have, given its header length. */
size_t expectedWeightsBytes(const NetworkSpec& spec, size_t headerBytes);

/**
 * Loads and folds all parameters. Errors (DetectorError BadWeights) say
 * `weights: expected N bytes, got M, ran out in layer K (<kind>, cfg line L)` or report trailing bytes.
 */
LoadedWeights loadWeights(const NetworkSpec& spec, const uint8_t* data, size_t size);

}  // namespace emofleet
