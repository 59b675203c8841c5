// Checks of a whole CpuEngine against the naive forward pass, shared by the kernel tests.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "../core/cpu_engine.hpp"
#include "../core/kernels/winograd_convolution.hpp"
#include "test_harness.hpp"
#include "test_networks.hpp"

namespace emofleet_test {

inline std::string winogradModeLabel(emofleet::WinogradMode mode) {
  switch (mode) {
    case emofleet::WinogradMode::Auto: return "winograd auto";
    case emofleet::WinogradMode::Off: return "winograd off";
    case emofleet::WinogradMode::F2: return "winograd f2";
    case emofleet::WinogradMode::F4: return "winograd f4";
  }
  return "winograd ?";
}

/**
 * Runs `engine` up to every executed layer (inferWithTap) and records a test failure, naming the layer, its kind
 * and `context`, for each whose output is further than `tolerance` (relativeError) from `expected[layer]`
 * (naiveForward).
 */
inline void checkEveryLayer(emofleet::CpuEngine& engine, const std::vector<float>& input,
                            const std::vector<std::vector<float>>& expected, double tolerance,
                            const std::string& context) {
  for (size_t layer = 0; layer < engine.executedLayers(); ++layer) {
    std::vector<float> tap;
    engine.inferWithTap(input.data(), static_cast<int>(layer), tap);
    const double error = relativeError(tap.data(), expected[layer]);
    if (!(error <= tolerance)) {
      char numbers[64];
      std::snprintf(numbers, sizeof(numbers), "relative error %.3g > %.3g", error, tolerance);
      recordFailure(__FILE__, __LINE__,
                    context + ": layer " + std::to_string(layer) + " (" +
                        emofleet::layerKindName(engine.spec().layers[layer].kind) + ") " + numbers);
    }
  }
}

}  // namespace emofleet_test
