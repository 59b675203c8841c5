// PointwiseConvolution against the naive convolution: pixel counts that leave a partial input panel and a
// partial last block, filter counts that leave a partial weight panel and a partial store group, items that run
// in several L2 steps, every activation, 1 and 3 threads; the rule, and the engine running it.
#include <string>

#include "../core/cpu_engine.hpp"
#include "../core/kernels/pointwise_convolution.hpp"
#include "engine_checks.hpp"
#include "test_harness.hpp"
#include "test_networks.hpp"

using namespace emofleet;
using namespace emofleet_test;

namespace {

struct Case {
  int channels, height, width, filters;
  const char* activation;
  size_t blockColumns;  // 0: the scratch budget's
};

std::string pointwiseCfg(const Case& c) {
  return "[net]\nwidth=" + std::to_string(c.width) + "\nheight=" + std::to_string(c.height) +
         "\nchannels=" + std::to_string(c.channels) + "\n[convolutional]\nfilters=" + std::to_string(c.filters) +
         "\nsize=1\nstride=1\npad=0\nactivation=" + c.activation + "\nbatch_normalize=1\n";
}

std::string describe(const Case& c) {
  return std::to_string(c.channels) + "x" + std::to_string(c.height) + "x" + std::to_string(c.width) + " -> " +
         std::to_string(c.filters) + " " + c.activation + " blocks of " + std::to_string(c.blockColumns);
}

void checkCase(const Case& c, uint32_t seed) {
  const SingleLayerCase single = singleLayerCase(pointwiseCfg(c), seed);
  const PointwiseConvolution convolution(single.layer(), single.parameters(), c.blockColumns);
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    std::vector<float> scratch(convolution.scratchFloats(), -5.f);
    std::vector<float> output(single.layer().output.elements(), -7.f);
    convolution.run(single.input.data(), output.data(), scratch.data(), pool);
    checkOutput(output, single.expected, 2e-6, describe(c) + " threads " + std::to_string(threads));
  }
}

}  // namespace

TEST(pointwise_convolution_matches_naive_convolution) {
  const Case cases[] = {
      {64, 13, 13, 128, "leaky", 0},      // 169 pixels: 21 whole input panels and one of a single pixel
      {70, 5, 7, 150, "linear", 0},       // 150 filters: a partial weight panel and a partial store group
      {64, 32, 32, 150, "relu", 0},       // small kernels: each item runs its 1024 pixels in several L2 steps
      {96, 13, 13, 136, "logistic", 40},  // blocks of 40 pixels, the last one 9
      {65, 9, 9, 33, "leaky", 16},        // one filter past a panel, blocks of two panels
  };
  uint32_t seed = 310;
  for (const Case& c : cases) checkCase(c, seed += 2);
}

TEST(pointwise_convolution_rule_takes_deep_low_resolution_1x1_layers) {
  const NetworkSpec spec = parseNetworkCfg(
      "[net]\nwidth=32\nheight=32\nchannels=64\n"
      "[convolutional]\nfilters=128\nsize=1\nstride=1\npad=0\nactivation=leaky\n"           // 64 -> 128 at 32x32
      "[convolutional]\nfilters=127\nsize=1\nstride=1\npad=0\nactivation=leaky\n"           // 127 filters
      "[convolutional]\nfilters=128\nsize=1\nstride=1\npad=0\nactivation=leaky\n"           // 127 channels
      "[convolutional]\nfilters=128\nsize=3\nstride=1\npad=1\nactivation=leaky\n"           // 3x3
      "[convolutional]\nfilters=128\nsize=1\nstride=2\npad=0\nactivation=leaky\n"           // stride 2
      "[convolutional]\nfilters=128\nsize=1\nstride=1\npad=0\ngroups=2\nactivation=leaky\n" // groups
      "[convolutional]\nfilters=128\nsize=1\nstride=1\npad=0\npadding=1\nactivation=leaky\n");  // padded
  const NetworkSpec wide = parseNetworkCfg(
      "[net]\nwidth=33\nheight=32\nchannels=64\n"
      "[convolutional]\nfilters=128\nsize=1\nstride=1\npad=0\nactivation=leaky\n");  // 1056 pixels
  const NetworkSpec shallow = parseNetworkCfg(
      "[net]\nwidth=13\nheight=13\nchannels=63\n"
      "[convolutional]\nfilters=128\nsize=1\nstride=1\npad=0\nactivation=leaky\n");  // 63 channels
  CHECK(pointwiseConvolutionFor(spec.layers[0]));
  CHECK(!pointwiseConvolutionFor(spec.layers[1]));
  CHECK(pointwiseConvolutionFor(spec.layers[2]));
  CHECK(!pointwiseConvolutionFor(spec.layers[3]));
  CHECK(!pointwiseConvolutionFor(spec.layers[4]));
  CHECK(!pointwiseConvolutionFor(spec.layers[5]));
  CHECK(!pointwiseConvolutionFor(spec.layers[6]));
  CHECK(!pointwiseConvolutionFor(wide.layers[0]));
  CHECK(!pointwiseConvolutionFor(shallow.layers[0]));
}

TEST(engine_runs_deep_1x1_layers_on_the_pointwise_kernel) {
  const NetworkSpec spec = parseNetworkCfg(
      "[net]\nwidth=26\nheight=26\nchannels=64\n"
      "[convolutional]\nbatch_normalize=1\nfilters=128\nsize=1\nstride=1\npad=0\nactivation=leaky\n"  // pointwise
      "[maxpool]\nsize=2\nstride=2\n"
      "[convolutional]\nbatch_normalize=1\nfilters=192\nsize=1\nstride=1\npad=0\nactivation=leaky\n"  // pointwise
      "[route]\nlayers=-1,-2\n"                                                                     // 320 x 13 x 13
      "[convolutional]\nbatch_normalize=1\nfilters=64\nsize=3\nstride=1\npad=1\nactivation=leaky\n"   // F(2,3)
      "[convolutional]\nfilters=45\nsize=1\nstride=1\npad=0\nactivation=linear\n");                   // im2col
  const std::vector<uint8_t> weights = randomWeights(spec, 330);
  const std::vector<float> input = randomTensor(spec.input.elements(), 331, 0.f, 1.f);
  const std::vector<std::vector<float>> expected = naiveForward(spec, weights, input);
  for (WinogradMode mode : {WinogradMode::Auto, WinogradMode::Off}) {
    CpuEngine engine(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{2, true, {}, mode});
    CHECK(engine.pointwiseLayers() == (mode == WinogradMode::Auto ? std::vector<int>{0, 2} : std::vector<int>{}));
    checkEveryLayer(engine, input, expected, 1e-5, winogradModeLabel(mode));
  }
  // fuse: false is darknet's reference path: never the pointwise kernel.
  CpuEngine unfused(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{2, false, {}, WinogradMode::Auto});
  CHECK(unfused.pointwiseLayers().empty());
}
