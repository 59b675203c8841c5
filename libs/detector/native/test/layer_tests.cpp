// Every layer of small networks against the naive reference, fused and unfused, 1 and 3 threads.
#include <string>

#include "../core/cpu_engine.hpp"
#include "../core/region_head.hpp"
#include "engine_checks.hpp"
#include "test_harness.hpp"
#include "test_networks.hpp"

using namespace emofleet;
using namespace emofleet_test;

namespace {

void compareAllLayers(const std::string& cfg, uint32_t seed) {
  const NetworkSpec spec = parseNetworkCfg(cfg);
  const std::vector<uint8_t> weights = randomWeights(spec, seed);
  const std::vector<float> input = randomTensor(spec.input.elements(), seed + 1, 0.f, 1.f);
  const std::vector<std::vector<float>> expected = naiveForward(spec, weights, input);
  for (int threads : {1, 3}) {
    for (bool fuse : {true, false}) {
      CpuEngine engine(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{threads, fuse});
      checkEveryLayer(engine, input, expected, 1e-5,
                      "threads=" + std::to_string(threads) + " fuse=" + std::to_string(fuse));
      // The final output of a full run (no tap) must match too: the planner may reuse buffers differently.
      const float* out = engine.infer(input.data());
      CHECK(relativeError(out, expected[engine.executedLayers() - 1]) <= 1e-5);
    }
  }
}

const char* const kConvolutions = R"(
[net]
width=47
height=41
channels=3
[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky
[convolutional]
filters=12
size=3
stride=2
pad=1
activation=relu
[convolutional]
filters=6
size=5
stride=1
padding=1
activation=logistic
[convolutional]
batch_normalize=1
filters=8
size=3
groups=2
pad=1
activation=leaky
[convolutional]
batch_normalize=1
filters=8
size=3
groups=8
pad=1
stride=2
activation=leaky
[convolutional]
filters=5
size=1
stride=1
activation=linear
[convolutional]
filters=4
size=1
stride=2
pad=0
activation=linear
)";

const char* const kPooling = R"(
[net]
width=27
height=25
channels=4
[maxpool]
size=2
stride=2
[maxpool]
size=2
stride=1
[maxpool]
size=3
stride=1
[maxpool]
size=3
stride=2
[maxpool]
size=2
stride=1
padding=0
[avgpool]
)";

// YOLO v2's passthrough in miniature: a conv before the pool feeds route -> conv -> reorg -> route.
const char* const kPassthrough = R"(
[net]
width=32
height=32
channels=3
[convolutional]
batch_normalize=1
filters=16
size=3
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
batch_normalize=1
filters=32
size=3
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
batch_normalize=1
filters=64
size=3
pad=1
activation=leaky
[maxpool]
size=2
stride=1
[route]
layers=-4
[convolutional]
batch_normalize=1
filters=8
size=1
activation=leaky
[reorg]
stride=2
[route]
layers=-1,-4
[convolutional]
filters=20
size=1
activation=linear
)";

const char* const kDense = R"(
[net]
width=9
height=7
channels=3
[convolutional]
batch_normalize=1
filters=6
size=3
pad=1
activation=leaky
[convolutional]
filters=6
size=3
pad=1
activation=linear
[shortcut]
from=-2
activation=leaky
[route]
layers=0,2,1
[connected]
output=10
activation=leaky
batch_normalize=1
[connected]
output=8
activation=linear
[softmax]
groups=2
)";

}  // namespace

TEST(convolutions_match_naive_reference) { compareAllLayers(kConvolutions, 11); }
TEST(pooling_matches_naive_reference) { compareAllLayers(kPooling, 12); }
TEST(passthrough_route_reorg_match_naive_reference) { compareAllLayers(kPassthrough, 13); }
TEST(dense_layers_match_naive_reference) { compareAllLayers(kDense, 14); }

TEST(region_activation_matches_naive_reference) {
  const std::string cfg = std::string(kPassthrough).substr(0, std::string(kPassthrough).rfind("filters=20")) +
                          "filters=18\nsize=1\nactivation=linear\n[region]\nanchors=1,1,2,3\nclasses=4\nnum=2\n"
                          "softmax=1\ncoords=4\n";
  const NetworkSpec spec = parseNetworkCfg(cfg);
  const std::vector<uint8_t> weights = randomWeights(spec, 15);
  const std::vector<float> input = randomTensor(spec.input.elements(), 16, 0.f, 1.f);
  const auto expected = naiveForward(spec, weights, input);
  CpuEngine engine(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{2, true});
  CHECK_EQ(engine.executedLayers(), spec.layers.size() - 1);
  float* raw = engine.infer(input.data());
  CHECK(relativeError(raw, expected[expected.size() - 2]) <= 1e-5);
  activateRegion(spec.layers.back().region, spec.layers.back().input, raw);
  CHECK(relativeError(raw, expected.back()) <= 1e-5);
}

// The profiling entry point runs the same network: same output as infer(), one non-negative time per layer.
TEST(infer_timed_matches_infer_and_times_every_layer) {
  const NetworkSpec spec = parseNetworkCfg(kPassthrough);
  const std::vector<uint8_t> weights = randomWeights(spec, 17);
  const std::vector<float> input = randomTensor(spec.input.elements(), 18, 0.f, 1.f);
  CpuEngine engine(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{2, true});
  const size_t outputs = spec.layers[engine.executedLayers() - 1].output.elements();
  const float* plain = engine.infer(input.data());
  const std::vector<float> expected(plain, plain + outputs);
  std::vector<double> seconds{-1.};
  const float* timed = engine.inferTimed(input.data(), seconds);
  CHECK_EQ(seconds.size(), engine.executedLayers());
  for (double s : seconds) CHECK(s >= 0.);
  CHECK(relativeError(timed, expected) == 0.);
}
