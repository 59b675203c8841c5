// Checks of single kernels and of a whole CpuEngine against the naive forward pass, shared by the kernel tests.
#pragma once

#include <cstdint>
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
 * A one-layer network parsed from `cfg` with seeded random weights (loaded as the engine loads them), a seeded
 * input in [-1, 1), and the naive forward pass's output of the layer: what each kernel test checks its kernel
 * against.
 */
struct SingleLayerCase {
  emofleet::NetworkSpec spec;
  emofleet::LoadedWeights weights;
  std::vector<float> input;
  std::vector<float> expected;

  const emofleet::LayerSpec& layer() const { return spec.layers[0]; }
  const emofleet::LayerParameters& parameters() const { return weights.layers[0]; }
};

inline SingleLayerCase singleLayerCase(const std::string& cfg, uint32_t seed) {
  SingleLayerCase c;
  c.spec = emofleet::parseNetworkCfg(cfg);
  const std::vector<uint8_t> bytes = randomWeights(c.spec, seed);
  c.input = randomTensor(c.spec.input.elements(), seed + 1, -1.f, 1.f);
  c.expected = naiveForward(c.spec, bytes, c.input)[0];
  c.weights = emofleet::loadWeights(c.spec, bytes.data(), bytes.size());
  return c;
}

/** Records a test failure naming `context` when `output` is further than `tolerance` (relativeError) from `expected`. */
inline void checkOutput(const std::vector<float>& output, const std::vector<float>& expected, double tolerance,
                        const std::string& context) {
  const double error = relativeError(output.data(), expected);
  if (!(error <= tolerance)) recordFailure(__FILE__, __LINE__, context + ": relative error " + std::to_string(error));
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
