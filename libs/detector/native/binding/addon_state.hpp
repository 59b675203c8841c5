// Per-environment state of the addon (one per Node.js instance / worker thread).
#pragma once

#include <napi.h>

#include <memory>

#include "../core/detector.hpp"

namespace emofleet {

struct AddonState {
  Napi::FunctionReference detectorConstructor;
  /** Handed from the create worker to the Detector constructor; JS cannot construct one without it. */
  std::shared_ptr<Detector> pendingDetector;
};

}  // namespace emofleet
