// DirectConvolution against the naive convolution: 1x1, 3x3 and 5x5 kernels, padding 0-2 (outputs narrower and
// wider than the input), row widths that leave partial register blocks and partial vectors, filter counts that
// leave a partial block of four, every activation, 1 and 3 threads; the rule, and the engine running it.
#include <string>

#include "../core/cpu_engine.hpp"
#include "../core/kernels/direct_convolution.hpp"
#include "engine_checks.hpp"
#include "test_harness.hpp"
#include "test_networks.hpp"

using namespace emofleet;
using namespace emofleet_test;

namespace {

struct Case {
  int channels, height, width, filters, size, stride, padding;
  const char* activation;
};

std::string singleConvolutionCfg(const Case& c) {
  return "[net]\nwidth=" + std::to_string(c.width) + "\nheight=" + std::to_string(c.height) +
         "\nchannels=" + std::to_string(c.channels) + "\n[convolutional]\nfilters=" + std::to_string(c.filters) +
         "\nsize=" + std::to_string(c.size) + "\nstride=" + std::to_string(c.stride) + "\npad=0\npadding=" +
         std::to_string(c.padding) + "\nactivation=" + c.activation + "\nbatch_normalize=1\n";
}

std::string describe(const Case& c) {
  return std::to_string(c.channels) + "x" + std::to_string(c.height) + "x" + std::to_string(c.width) + " -> " +
         std::to_string(c.filters) + " size " + std::to_string(c.size) + " stride " + std::to_string(c.stride) +
         " pad " + std::to_string(c.padding) + " " + c.activation;
}

void checkCase(const Case& c, uint32_t seed) {
  const SingleLayerCase single = singleLayerCase(singleConvolutionCfg(c), seed);
  const DirectConvolution convolution(single.layer(), single.parameters());
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    std::vector<float> scratch(convolution.scratchFloats(threads));
    std::vector<float> output(single.layer().output.elements(), -7.f);
    convolution.run(single.input.data(), output.data(), scratch.data(), pool);
    checkOutput(output, single.expected, 2e-6, describe(c) + " threads " + std::to_string(threads));
  }
}

}  // namespace

TEST(direct_convolution_matches_naive_convolution) {
  const Case cases[] = {
      {3, 13, 17, 16, 3, 1, 1, "leaky"},      // the first layer's shape: 3 channels; 17 wide: a partial vector
      {16, 9, 130, 33, 3, 1, 1, "linear"},    // 130 wide: whole register blocks, then a partial one; 33 filters
      {7, 9, 11, 5, 1, 1, 0, "relu"},         // pointwise
      {5, 10, 9, 8, 3, 1, 0, "logistic"},     // no padding: 7 wide
      {4, 12, 14, 6, 5, 1, 2, "leaky"},       // 5x5, padding 2
      {6, 8, 8, 7, 3, 1, 2, "leaky"},         // padding 2 with 3x3: the output is wider than the input
      {15, 6, 100, 12, 3, 1, 1, "linear"},    // the most channels the rule gives it
  };
  uint32_t seed = 140;
  for (const Case& c : cases) checkCase(c, seed += 2);
}

TEST(direct_convolution_rule_takes_wide_layers_with_few_channels) {
  const NetworkSpec spec = parseNetworkCfg(
      "[net]\nwidth=104\nheight=104\nchannels=3\n"
      "[convolutional]\nfilters=15\nsize=3\nstride=1\npad=1\nactivation=leaky\n"             // 3 channels, 104 wide
      "[convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n"             // 15 channels
      "[convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n"             // 16: Winograd's
      "[convolutional]\nfilters=8\nsize=1\nstride=1\npad=0\nactivation=leaky\n"              // 1x1
      "[convolutional]\nfilters=8\nsize=3\nstride=1\npad=1\ngroups=8\nactivation=leaky\n"   // depthwise
      "[convolutional]\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n"              // stride 2
      "[convolutional]\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n"              // 8 x 52 wide
      "[maxpool]\nsize=2\nstride=2\n"
      "[convolutional]\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n");            // 26 wide
  CHECK(directConvolutionFor(spec.layers[0]));
  CHECK(directConvolutionFor(spec.layers[1]));
  CHECK(!directConvolutionFor(spec.layers[2]));
  CHECK(!directConvolutionFor(spec.layers[3]));
  CHECK(!directConvolutionFor(spec.layers[4]));
  CHECK(!directConvolutionFor(spec.layers[5]));
  CHECK(directConvolutionFor(spec.layers[6]));
  CHECK(!directConvolutionFor(spec.layers[8]));
}

TEST(engine_runs_wide_few_channel_layers_on_the_direct_kernel) {
  const NetworkSpec spec = parseNetworkCfg(
      "[net]\nwidth=60\nheight=56\nchannels=3\n"
      "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n"    // direct
      "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n"   // direct
      "[maxpool]\nsize=2\nstride=2\n"
      "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n"   // F(4,3)
      "[convolutional]\nfilters=6\nsize=1\nstride=1\npad=1\nactivation=linear\n");                    // im2col
  const std::vector<uint8_t> weights = randomWeights(spec, 70);
  const std::vector<float> input = randomTensor(spec.input.elements(), 71, 0.f, 1.f);
  const std::vector<std::vector<float>> expected = naiveForward(spec, weights, input);
  for (WinogradMode mode : {WinogradMode::Auto, WinogradMode::Off}) {
    CpuEngine engine(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{2, true, {}, mode});
    CHECK(engine.directLayers() == (mode == WinogradMode::Auto ? std::vector<int>{0, 1} : std::vector<int>{}));
    checkEveryLayer(engine, input, expected, 1e-5, winogradModeLabel(mode));
  }
  // fuse: false is darknet's reference path: never the direct kernel.
  CpuEngine unfused(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{2, false, {}, WinogradMode::Auto});
  CHECK(unfused.directLayers().empty());
}

// infer() runs a direct layer and the plain 2x2 pool after it as one pass (the convolution's output is never
// written); taps still see every layer's own output. Not fused when something else reads the convolution's
// output, or when the pool is not a plain 2x2.
TEST(engine_fuses_a_direct_layer_with_the_pool_after_it) {
  struct FusionCase {
    const char* cfg;
    std::vector<int> pooled;
  };
  const std::string head = "[net]\nwidth=64\nheight=58\nchannels=3\n";
  const std::string direct = "[convolutional]\nbatch_normalize=1\nfilters=9\nsize=3\nstride=1\npad=1\nactivation=leaky\n";
  const std::string logistic = "[convolutional]\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=logistic\n";
  const std::string pool = "[maxpool]\nsize=2\nstride=2\n";
  const std::string tail = "[convolutional]\nfilters=6\nsize=1\nstride=1\npad=1\nactivation=linear\n";
  const FusionCase cases[] = {
      {"", {0}},                                                        // direct -> pool -> 1x1
      {"logistic", {0}},                                                // logistic: applied after the store
      {"route", {}},                                                    // a route also reads the convolution
      {"odd", {}},                                                      // 57 tall: the pool is not a plain 2x2
  };
  uint32_t seed = 170;
  for (const FusionCase& c : cases) {
    const std::string kind = c.cfg;
    std::string cfg;
    if (kind == "odd") {
      cfg = "[net]\nwidth=64\nheight=57\nchannels=3\n" + direct + pool + tail;
    } else if (kind == "route") {
      cfg = head + direct + pool + "[route]\nlayers=-2\n" + pool + tail;
    } else {
      cfg = head + (kind == "logistic" ? logistic : direct) + pool + tail;
    }
    const NetworkSpec spec = parseNetworkCfg(cfg);
    const std::vector<uint8_t> weights = randomWeights(spec, seed += 2);
    const std::vector<float> input = randomTensor(spec.input.elements(), seed + 1, 0.f, 1.f);
    const std::vector<std::vector<float>> expected = naiveForward(spec, weights, input);
    CpuEngine engine(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{2, true});
    CHECK(engine.directLayers() == std::vector<int>{0});
    if (engine.pooledDirectLayers() != c.pooled) {
      recordFailure(__FILE__, __LINE__, "case '" + kind + "': pooledDirectLayers() is not as expected");
    }
    for (int run = 0; run < 2; ++run) {  // the second after the taps' unfused run
      const double error = relativeError(engine.infer(input.data()), expected.back());
      if (!(error <= 1e-5)) {
        recordFailure(__FILE__, __LINE__, "case '" + kind + "' run " + std::to_string(run) + ": relative error " +
                                              std::to_string(error));
      }
      if (run == 0) checkEveryLayer(engine, input, expected, 1e-5, "pool fusion " + kind);
    }
  }
}
