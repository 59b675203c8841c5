// Where every layer's output lives in one shared activation arena, planned by liveness.
#pragma once

#include <cstddef>
#include <vector>

#include "network_spec.hpp"

namespace emofleet {

struct ActivationPlan {
  /** Float offset of each layer's output inside the arena. */
  std::vector<size_t> outputOffset;
  /**
   * For each [route], per input: true when that input layer already writes straight into the route's slice
   * (no copy at run time). Empty vectors for other layers.
   */
  std::vector<std::vector<bool>> routeInputInPlace;
  size_t arenaFloats = 0;
  /** What the arena would need without reuse (every output in its own buffer): for the report. */
  size_t unplannedFloats = 0;
};

/**
 * Plans the arena for layers [0, executedLayers). With `writeRoutesInPlace`, a layer whose output feeds a
 * multi-input [route] (and no earlier such route) is placed directly in its slice of the route's buffer, and
 * a single-input route is a view of its input. Buffers whose lifetimes (first write .. last read) do not
 * overlap share memory; the last executed layer's output stays live to the end.
 */
ActivationPlan planActivations(const NetworkSpec& spec, size_t executedLayers, bool writeRoutesInPlace);

}  // namespace emofleet
