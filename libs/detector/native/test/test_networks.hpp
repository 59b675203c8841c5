// Helpers for tests: seeded random darknet weights for a cfg, and a naive darknet forward pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/network_spec.hpp"

namespace emofleet_test {

/** Header 0.2.0 (64-bit `seen`) + parameters in darknet's order; batch-norm variances in 0.5..1.5. */
std::vector<uint8_t> randomWeights(const emofleet::NetworkSpec& spec, uint32_t seed);

std::vector<float> randomTensor(size_t count, uint32_t seed, float low, float high);

/**
 * Every layer's output, computed the slow, obvious way from the unfolded weights (direct loops, batch norm
 * applied as darknet's normalize_cpu + scale + bias). [region] outputs its activated input.
 */
std::vector<std::vector<float>> naiveForward(const emofleet::NetworkSpec& spec, const std::vector<uint8_t>& weights,
                                             const std::vector<float>& input);

/** max|a-b| / max(1, max|b|). */
double relativeError(const float* actual, const std::vector<float>& expected);

}  // namespace emofleet_test
