// cfg and weights parsing: semantics, defaults and error messages.
#include <cmath>
#include <cstring>

#include "../core/batch_norm_fold.hpp"
#include "../core/detector_error.hpp"
#include "../core/network_spec.hpp"
#include "../core/weights_loader.hpp"
#include "test_harness.hpp"
#include "test_networks.hpp"

using namespace emofleet;
using namespace emofleet_test;

namespace {
const char* const kTiny = "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=2\n"
                          "size=3\npad=1\nactivation=leaky\n";
}

TEST(cfg_shapes_follow_darknet_rules) {
  const NetworkSpec spec = parseNetworkCfg(
      "# comment\n[net]\n width = 13 \nheight=13\nchannels=3\n[maxpool]\nsize=2\nstride=1\n[maxpool]\nsize=2\n"
      "stride=2\n[convolutional]\nfilters=4\nsize=3\nstride=2\npadding=0\n;also a comment\n[reorg]\nstride=1\n");
  CHECK_EQ(spec.layers[0].output.width, 13);   // (13 + 1 - 2)/1 + 1
  CHECK_EQ(spec.layers[1].output.width, 7);    // (13 + 1 - 2)/2 + 1
  CHECK_EQ(spec.layers[2].output.width, 3);    // (7 - 3)/2 + 1
  CHECK(spec.layers[2].convolution.activation == Activation::Logistic);  // darknet's default
  CHECK_EQ(spec.layers[0].maxPool.padding, 1);
}

TEST(cfg_errors_name_the_line) {
  CHECK_THROWS_CODE(parseNetworkCfg("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=x\n"),
                    ErrorCode::BadCfg, "cfg:6:");
  CHECK_THROWS_CODE(parseNetworkCfg("[net]\nwidth=8\nheight=8\nchannels=3\n\n[yolo]\n"), ErrorCode::BadCfg,
                    "cfg:6: [yolo] unsupported layer type");
  CHECK_THROWS_CODE(parseNetworkCfg("[net]\nwidth=8\nheight=8\nchannels=3\n[route]\nlayers=-4\n"), ErrorCode::BadCfg,
                    "cfg:6:");
  CHECK_THROWS_CODE(parseNetworkCfg("width=3\n"), ErrorCode::BadCfg, "cfg:1: option");
  CHECK_THROWS_CODE(parseNetworkCfg("[convolutional]\n"), ErrorCode::BadCfg, "must be [net]");
  CHECK_THROWS_CODE(parseNetworkCfg("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nactivation=mish\n"),
                    ErrorCode::BadCfg, "cfg:6: [convolutional] unsupported activation 'mish'");
  CHECK_THROWS_CODE(parseNetworkCfg("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=6\ngroups=4\n"),
                    ErrorCode::BadCfg, "not divisible by groups");
  CHECK_THROWS_CODE(parseNetworkCfg("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=9\n[region]\n"
                                    "classes=2\nnum=2\nanchors=1,1,2,2\n"),
                    ErrorCode::BadCfg, "num*(coords+1+classes) = 14");
}

TEST(weights_header_seen_width_follows_version) {
  const NetworkSpec spec = parseNetworkCfg(kTiny);
  std::vector<uint8_t> weights = randomWeights(spec, 3);  // 0.2.0: 64-bit seen, 20-byte header
  CHECK_EQ(loadWeights(spec, weights.data(), weights.size()).header.seen, 12345u);
  // 0.1.0: 32-bit seen, 16-byte header.
  std::vector<uint8_t> old(weights.begin(), weights.begin() + 16);
  const int32_t minor = 1;
  std::memcpy(old.data() + 4, &minor, 4);
  old.insert(old.end(), weights.begin() + 20, weights.end());
  const LoadedWeights loaded = loadWeights(spec, old.data(), old.size());
  CHECK_EQ(loaded.header.byteLength, 16u);
  CHECK_EQ(loaded.header.seen, 12345u);
}

TEST(weights_errors_say_where_they_ran_out) {
  const NetworkSpec spec = parseNetworkCfg(kTiny);
  const std::vector<uint8_t> weights = randomWeights(spec, 3);
  const std::string expected = "weights: expected " + std::to_string(weights.size()) + " bytes, got " +
                               std::to_string(weights.size() - 4) + ", ran out in layer 0";
  CHECK_THROWS_CODE(loadWeights(spec, weights.data(), weights.size() - 4), ErrorCode::BadWeights, expected);
  std::vector<uint8_t> longer = weights;
  longer.resize(weights.size() + 8);
  CHECK_THROWS_CODE(loadWeights(spec, longer.data(), longer.size()), ErrorCode::BadWeights, "8 trailing bytes");
  CHECK_THROWS_CODE(loadWeights(spec, weights.data(), 5), ErrorCode::BadWeights, "header");
}

TEST(batch_norm_fold_uses_darknet_epsilon_on_the_deviation) {
  float weights[2] = {2.f, -1.f};
  float bias[1] = {.5f};
  const float gamma[1] = {3.f}, mean[1] = {.25f}, variance[1] = {1e-4f};
  foldBatchNorm(weights, bias, gamma, mean, variance, 1, 2);
  const float scale = 3.f / (std::sqrt(1e-4f) + 1e-6f);  // not 3 / sqrt(1e-4 + 1e-6)
  CHECK(std::fabs(weights[0] - 2.f * scale) <= 1e-3f);
  CHECK(std::fabs(bias[0] - (.5f - .25f * scale)) <= 1e-3f);
}
