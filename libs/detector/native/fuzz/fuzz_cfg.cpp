// libFuzzer: arbitrary cfg text through the parser and the activation planner (no weights, no allocation
// of activations). Anything but a DetectorError(BadCfg) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/activation_plan.hpp"
#include "../core/detector_error.hpp"
#include "../core/network_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const emofleet::NetworkSpec spec = emofleet::parseNetworkCfg(text);
    emofleet::planActivations(spec, spec.layers.size(), true);
    emofleet::planActivations(spec, spec.layers.size(), false);
  } catch (const emofleet::DetectorError& error) {
    if (error.code() != emofleet::ErrorCode::BadCfg) __builtin_trap();
  }
  return 0;
}
