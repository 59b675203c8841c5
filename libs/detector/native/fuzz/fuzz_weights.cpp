// libFuzzer: arbitrary bytes as the .weights of a fixed small network (convolutional with and without batch
// norm, grouped, connected with batch norm), then one inference when they load. Only BadWeights may escape.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/cpu_engine.hpp"
#include "../core/detector_error.hpp"
#include "../core/network_spec.hpp"
#include "../core/weights_loader.hpp"

namespace {

const char* const kCfg =
    "[net]\nwidth=8\nheight=6\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\nactivation=leaky\n"
    "[convolutional]\nfilters=4\nsize=3\ngroups=2\npad=1\nactivation=logistic\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[connected]\noutput=3\nbatch_normalize=1\nactivation=relu\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const emofleet::NetworkSpec spec = emofleet::parseNetworkCfg(kCfg);
  try {
    emofleet::LoadedWeights weights = emofleet::loadWeights(spec, data, size);
    emofleet::CpuEngine engine(spec, std::move(weights), emofleet::EngineOptions{1, true});
    const std::vector<float> input(spec.input.elements(), .5f);
    engine.infer(input.data());
  } catch (const emofleet::DetectorError& error) {
    if (error.code() != emofleet::ErrorCode::BadWeights) __builtin_trap();
  }
  return 0;
}
