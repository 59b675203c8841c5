#include "activation_plan.hpp"

#include <algorithm>
#include <limits>

namespace emofleet {
namespace {

constexpr size_t kAlignmentFloats = 16;  // 64-byte cache lines

size_t alignUp(size_t value) { return (value + kAlignmentFloats - 1) / kAlignmentFloats * kAlignmentFloats; }

struct Buffer {
  size_t floats = 0;
  int firstUse = std::numeric_limits<int>::max();
  int lastUse = -1;
  size_t offset = 0;
};

struct Placement {
  int buffer = -1;
  size_t offset = 0;  // floats inside the buffer
};

}  // namespace

ActivationPlan planActivations(const NetworkSpec& spec, size_t executedLayers, bool writeRoutesInPlace) {
  const std::vector<LayerSpec>& layers = spec.layers;
  const size_t count = std::min(executedLayers, layers.size());
  ActivationPlan plan;
  plan.outputOffset.assign(count, 0);
  plan.routeInputInPlace.assign(count, {});

  // 1. Claim route slices: input layer index -> (route, channel offset).
  std::vector<int> claimedBy(count, -1);
  std::vector<size_t> claimOffset(count, 0);
  for (size_t r = 0; r < count; ++r) {
    const LayerSpec& route = layers[r];
    if (route.kind != LayerKind::Route) continue;
    plan.routeInputInPlace[r].assign(route.inputs.size(), false);
    if (!writeRoutesInPlace || route.inputs.size() < 2) continue;
    size_t offset = 0;
    for (size_t i = 0; i < route.inputs.size(); ++i) {
      const size_t input = static_cast<size_t>(route.inputs[i]);
      const bool claimable = claimedBy[input] < 0 && layers[input].kind != LayerKind::Route &&
                             std::count(route.inputs.begin(), route.inputs.end(), route.inputs[i]) == 1;
      if (claimable) {
        claimedBy[input] = static_cast<int>(r);
        claimOffset[input] = offset;
        plan.routeInputInPlace[r][i] = true;
      }
      offset += layers[input].output.elements();
    }
  }

  // 2. Give every output a buffer (or a place inside another layer's buffer).
  std::vector<Buffer> buffers;
  std::vector<Placement> placement(count);
  std::vector<int> routeBuffer(count, -1);
  const auto bufferOfRoute = [&](size_t route) {
    if (routeBuffer[route] < 0) {
      routeBuffer[route] = static_cast<int>(buffers.size());
      buffers.push_back(Buffer{layers[route].output.elements()});
    }
    return routeBuffer[route];
  };
  for (size_t i = 0; i < count; ++i) {
    const LayerSpec& layer = layers[i];
    if (claimedBy[i] >= 0) {
      placement[i] = Placement{bufferOfRoute(static_cast<size_t>(claimedBy[i])), claimOffset[i]};
    } else if (layer.kind == LayerKind::Route && layer.inputs.size() == 1 && writeRoutesInPlace) {
      placement[i] = placement[static_cast<size_t>(layer.inputs[0])];
    } else if (layer.kind == LayerKind::Route) {
      placement[i] = Placement{bufferOfRoute(i), 0};
    } else {
      placement[i] = Placement{static_cast<int>(buffers.size()), 0};
      buffers.push_back(Buffer{layer.output.elements()});
    }
    plan.unplannedFloats += alignUp(layer.output.elements());
  }

  // 3. Lifetimes: a buffer is live from its first write to its last read.
  const auto touch = [&](size_t layer, int at) {
    Buffer& buffer = buffers[static_cast<size_t>(placement[layer].buffer)];
    buffer.firstUse = std::min(buffer.firstUse, at);
    buffer.lastUse = std::max(buffer.lastUse, at);
  };
  for (size_t i = 0; i < count; ++i) {
    touch(i, static_cast<int>(i));
    for (int input : layers[i].inputs) {
      if (input >= 0) touch(static_cast<size_t>(input), static_cast<int>(i));
    }
  }
  if (count > 0) touch(count - 1, static_cast<int>(count));

  // 4. Greedy by size: each buffer goes to the lowest offset free of every placed buffer it overlaps in time.
  std::vector<size_t> order(buffers.size());
  for (size_t b = 0; b < order.size(); ++b) order[b] = b;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].floats > buffers[b].floats; });
  std::vector<size_t> placedOrder;
  for (size_t b : order) {
    Buffer& buffer = buffers[b];
    std::vector<std::pair<size_t, size_t>> busy;  // [offset, end) of time-overlapping placed buffers
    for (size_t other : placedOrder) {
      const Buffer& o = buffers[other];
      if (o.firstUse <= buffer.lastUse && buffer.firstUse <= o.lastUse) {
        busy.emplace_back(o.offset, o.offset + alignUp(o.floats));
      }
    }
    std::sort(busy.begin(), busy.end());
    size_t candidate = 0;
    const size_t need = alignUp(buffer.floats);
    for (const auto& range : busy) {
      if (range.first >= candidate + need) break;
      candidate = std::max(candidate, range.second);
    }
    buffer.offset = candidate;
    plan.arenaFloats = std::max(plan.arenaFloats, candidate + need);
    placedOrder.push_back(b);
  }

  for (size_t i = 0; i < count; ++i) {
    plan.outputOffset[i] = buffers[static_cast<size_t>(placement[i].buffer)].offset + placement[i].offset;
  }
  return plan;
}

}  // namespace emofleet
