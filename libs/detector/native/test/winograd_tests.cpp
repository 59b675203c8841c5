// Winograd F(2x2,3x3) and F(4x4,3x3) against the naive direct convolution: odd sizes (partial output tiles),
// padding 0/1/2, channel counts that are not multiples of 4 or 8 (partial SIMD lane groups), several tile
// blocks, tile chunks and steps, every activation, 1 and 3 threads; and the engine's per-layer choice.
#include <algorithm>
#include <cmath>
#include <string>

#include "../core/cpu_engine.hpp"
#include "../core/detector_error.hpp"
#include "../core/kernels/packed_gemm.hpp"
#include "../core/kernels/winograd_convolution.hpp"
#include "engine_checks.hpp"
#include "test_harness.hpp"
#include "test_networks.hpp"

using namespace emofleet;
using namespace emofleet_test;

namespace {

struct Case {
  int channels, height, width, filters, padding;
  const char* activation;
  bool batchNormalize;
};

std::string singleConvolutionCfg(const Case& c) {
  return "[net]\nwidth=" + std::to_string(c.width) + "\nheight=" + std::to_string(c.height) +
         "\nchannels=" + std::to_string(c.channels) + "\n[convolutional]\nfilters=" + std::to_string(c.filters) +
         "\nsize=3\nstride=1\npadding=" + std::to_string(c.padding) + "\nactivation=" + c.activation +
         (c.batchNormalize ? "\nbatch_normalize=1\n" : "\n");
}

// F(4x4,3x3) interpolates at +-2 and +-1/2: its rounding error is a few times F(2x2,3x3)'s, still far below 1e-4.
double toleranceFor(int tile) { return tile == 2 ? 2e-6 : 1e-5; }

void checkCase(const Case& c, uint32_t seed) {
  const SingleLayerCase single = singleLayerCase(singleConvolutionCfg(c), seed);
  for (int tile : {2, 4}) {
    for (size_t blockTiles : {size_t{0}, size_t{3}}) {
      ThreadPool transformPool(2);
      const WinogradConvolution convolution(single.layer(), single.parameters(), tile, &transformPool, blockTiles);
      std::vector<float> scratch(convolution.scratchFloats());
      for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        std::vector<float> output(single.layer().output.elements(), -7.f);
        convolution.run(single.input.data(), output.data(), scratch.data(), pool);
        checkOutput(output, single.expected, toleranceFor(tile),
                    "F(" + std::to_string(tile) + ",3) " + std::to_string(c.channels) + "x" +
                        std::to_string(c.height) + "x" + std::to_string(c.width) + " -> " + std::to_string(c.filters) +
                        " pad " + std::to_string(c.padding) + " " + c.activation +
                        " blockTiles=" + std::to_string(blockTiles) + " threads=" + std::to_string(threads));
      }
    }
  }
}

}  // namespace

TEST(winograd_matches_direct_convolution_on_odd_shapes) {
  const Case cases[] = {
      {3, 7, 9, 5, 1, "leaky", true},       // fewer tiles than one lane group, partial tiles both ways
      {13, 11, 6, 11, 1, "linear", false},  // channels/filters not multiples of 4 or 8
      {9, 5, 5, 17, 0, "relu", true},       // no padding: 3x3 output, F(4,3)'s single tile mostly clipped
      {17, 4, 13, 7, 0, "logistic", false}, // 2x11 output: the smallest Winograd accepts
      {6, 9, 10, 10, 2, "leaky", false},    // padding 2: output larger than the input
      {20, 23, 19, 33, 1, "leaky", true},   // several lane groups, interior and border tiles
      {300, 6, 7, 70, 1, "leaky", true},    // depth > packedGemm's depth block: accumulated passes; 3 panels
      {16, 46, 50, 32, 1, "leaky", true},   // one filter block: tiles split into chunks, each run in L2 steps
  };
  uint32_t seed = 40;
  for (const Case& c : cases) checkCase(c, seed += 2);
}

// packedGemm (the Winograd element-wise stage) against a plain triple loop: ragged columns (not multiples of the
// 8-column panels), filters not multiples of a panel, depth across several depth blocks, a sub-range of panels.
TEST(packed_gemm_matches_naive_product) {
  const size_t shapes[][3] = {{1, 1, 1}, {5, 3, 7}, {33, 13, 49}, {70, 600, 9}, {64, 257, 17}};
  uint32_t seed = 90;
  for (const auto& shape : shapes) {
    const size_t filters = shape[0], depth = shape[1], columns = shape[2];
    const std::vector<float> w = randomTensor(filters * depth, ++seed, -1.f, 1.f);
    const std::vector<float> x = randomTensor(depth * columns, ++seed, -1.f, 1.f);
    const PackedWeights packed(w.data(), filters, depth, depth);
    std::vector<float> xp(packedInputFloats(columns, depth), -3.f);
    packInput(x.data(), depth, columns, columns, xp.data());
    const size_t ldc = packed.paddedFilters();
    const size_t panels = ldc / kPanelFilters;
    std::vector<float> c(columns * ldc, -5.f);
    packedGemm(packed, 0, panels / 2, xp.data(), columns, c.data(), ldc);  // two calls: first half, rest
    packedGemm(packed, panels / 2, panels - panels / 2, xp.data(), columns, c.data(), ldc);
    double worst = 0;
    for (size_t n = 0; n < columns; ++n) {
      for (size_t f = 0; f < ldc; ++f) {
        double expected = 0, scale = 0;
        for (size_t k = 0; f < filters && k < depth; ++k) {
          expected += static_cast<double>(w[f * depth + k]) * x[k * columns + n];
          scale += std::abs(static_cast<double>(w[f * depth + k]) * x[k * columns + n]);
        }
        worst = std::max(worst, std::abs(c[n * ldc + f] - expected) / std::max(scale, 1e-30));
      }
    }
    CHECK(worst <= 1e-6);
  }
}

TEST(winograd_tile_rule_and_switch) {
  const NetworkSpec spec = parseNetworkCfg(
      "[net]\nwidth=40\nheight=40\nchannels=3\n"
      "[convolutional]\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n"   // 3 channels: im2col
      "[convolutional]\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n"   // 40x40: F(4,3)
      "[maxpool]\nsize=2\nstride=2\n"
      "[convolutional]\nfilters=512\nsize=3\nstride=1\npad=1\nactivation=leaky\n"  // 20x20, 32 ch: F(2,3)
      "[maxpool]\nsize=2\nstride=2\n"
      "[convolutional]\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n"   // 10x10, 512 ch: F(2,3)
      "[convolutional]\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n"    // stride 2: im2col
      "[convolutional]\nfilters=8\nsize=3\nstride=1\npad=1\ngroups=2\nactivation=leaky\n");  // grouped
  CHECK_EQ(winogradTileFor(spec.layers[0], WinogradMode::Auto), 0);
  CHECK_EQ(winogradTileFor(spec.layers[1], WinogradMode::Auto), 4);
  CHECK_EQ(winogradTileFor(spec.layers[3], WinogradMode::Auto), 2);
  CHECK_EQ(winogradTileFor(spec.layers[5], WinogradMode::Auto), 2);
  CHECK_EQ(winogradTileFor(spec.layers[5], WinogradMode::F4), 4);
  CHECK_EQ(winogradTileFor(spec.layers[1], WinogradMode::Off), 0);
  CHECK_EQ(winogradTileFor(spec.layers[6], WinogradMode::F2), 0);
  CHECK_EQ(winogradTileFor(spec.layers[7], WinogradMode::F4), 0);
  const std::vector<uint8_t> weights = randomWeights(spec, 60);
  const std::vector<float> input = randomTensor(spec.input.elements(), 61, 0.f, 1.f);
  const std::vector<std::vector<float>> expected = naiveForward(spec, weights, input);
  for (WinogradMode mode : {WinogradMode::Auto, WinogradMode::Off, WinogradMode::F2, WinogradMode::F4}) {
    CpuEngine engine(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{2, true, {}, mode});
    const auto chosen = engine.winogradLayers();
    if (mode == WinogradMode::Off) CHECK(chosen.empty());
    if (mode == WinogradMode::Auto) CHECK(chosen == (std::vector<std::pair<int, int>>{{1, 4}, {3, 2}, {5, 2}}));
    if (mode == WinogradMode::F2) CHECK(chosen == (std::vector<std::pair<int, int>>{{0, 2}, {1, 2}, {3, 2}, {5, 2}}));
    checkEveryLayer(engine, input, expected, 1e-5, winogradModeLabel(mode));
  }
  // fuse: false is darknet's reference path: never Winograd.
  CpuEngine unfused(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{2, false, {}, WinogradMode::F4});
  CHECK(unfused.winogradLayers().empty());
}

TEST(winograd_rejects_layers_it_cannot_run) {
  const NetworkSpec spec = parseNetworkCfg(
      "[net]\nwidth=8\nheight=8\nchannels=4\n[convolutional]\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=leaky\n");
  const std::vector<uint8_t> weights = randomWeights(spec, 70);
  const LoadedWeights loaded = loadWeights(spec, weights.data(), weights.size());
  CHECK_THROWS_CODE(WinogradConvolution(spec.layers[0], loaded.layers[0], 4), ErrorCode::BadArgument,
                    "not a dense 3x3 stride-1 convolution");
}
