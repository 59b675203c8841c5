#include "cpu_engine.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

#include "detector_error.hpp"
#include "kernels/convolution.hpp"
#include "kernels/dense.hpp"
#include "kernels/pooling.hpp"
#include "kernels/reorg.hpp"
#include "kernels/sgemm.hpp"

namespace emofleet {
namespace {

int resolveThreads(int requested) {
  if (requested < 0 || requested > 256) {
    throw DetectorError(ErrorCode::BadArgument, "threads must be 0 (all cores) or 1..256, got " +
                                                    std::to_string(requested));
  }
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

size_t executedLayerCount(const NetworkSpec& spec) {
  const bool endsInRegion = !spec.layers.empty() && spec.layers.back().kind == LayerKind::Region;
  return spec.layers.size() - (endsInRegion ? 1 : 0);
}

}  // namespace

CpuEngine::CpuEngine(NetworkSpec spec, LoadedWeights weights, const EngineOptions& options)
    : spec_(std::move(spec)),
      weights_(std::move(weights)),
      options_(options),
      executed_(executedLayerCount(spec_)),
      plan_(planActivations(spec_, executed_, options.fuse)),
      pool_(resolveThreads(options.threads)) {
  if (executed_ == 0) throw DetectorError(ErrorCode::BadCfg, "cfg: the network has no layers to run");
  useSingleThreadedBlas();
  size_t scratch = 0;
  for (size_t i = 0; i < executed_; ++i) {
    if (spec_.layers[i].kind == LayerKind::Convolutional) {
      scratch = std::max(scratch, convolutionScratchFloats(spec_.layers[i], options_.fuse, pool_.size()));
    }
  }
  arena_.assign(plan_.arenaFloats, 0.f);
  scratch_.assign(scratch, 0.f);
}

Shape CpuEngine::outputShape() const { return spec_.layers[executed_ - 1].output; }

const float* CpuEngine::layerOutput(size_t layer) const { return arena_.data() + plan_.outputOffset[layer]; }
float* CpuEngine::layerOutput(size_t layer) { return arena_.data() + plan_.outputOffset[layer]; }

const float* CpuEngine::layerInput(const float* networkInput, int producer) const {
  return producer < 0 ? networkInput : layerOutput(static_cast<size_t>(producer));
}

void CpuEngine::runLayer(size_t index, const float* networkInput) {
  const LayerSpec& layer = spec_.layers[index];
  const float* input = layerInput(networkInput, layer.inputs.front());
  float* output = layerOutput(index);
  switch (layer.kind) {
    case LayerKind::Convolutional:
      runConvolution(layer, weights_.layers[index], input, output, scratch_.data(), pool_, options_.fuse);
      return;
    case LayerKind::MaxPool: runMaxPool(layer, input, output, pool_); return;
    case LayerKind::Route: {
      size_t offset = 0;
      for (size_t i = 0; i < layer.inputs.size(); ++i) {
        const size_t producer = static_cast<size_t>(layer.inputs[i]);
        const size_t count = spec_.layers[producer].output.elements();
        const float* source = layerOutput(producer);
        // In place when the planner put the producer's output in this slice (or the route is a pure view).
        if (!plan_.routeInputInPlace[index][i] && source != output + offset) {
          std::memcpy(output + offset, source, count * sizeof(float));
        }
        offset += count;
      }
      return;
    }
    case LayerKind::Reorg: runReorg(layer, input, output); return;
    case LayerKind::Shortcut:
      runShortcut(layer, input, layerOutput(static_cast<size_t>(layer.inputs[1])), output);
      return;
    case LayerKind::AvgPool: runAveragePool(layer, input, output); return;
    case LayerKind::Connected: runConnected(layer, weights_.layers[index], input, output); return;
    case LayerKind::Softmax: runSoftmax(layer, input, output); return;
    case LayerKind::Region: return;  // post-processing (region_head), never executed here
  }
}

float* CpuEngine::infer(const float* input) {
  for (size_t i = 0; i < executed_; ++i) runLayer(i, input);
  return layerOutput(executed_ - 1);
}

float* CpuEngine::inferWithTap(const float* input, int layer, std::vector<float>& tap) {
  if (layer < 0 || static_cast<size_t>(layer) >= executed_) {
    throw DetectorError(ErrorCode::BadArgument, "layer " + std::to_string(layer) + " is outside 0.." +
                                                    std::to_string(executed_ - 1));
  }
  const size_t tapped = static_cast<size_t>(layer);
  for (size_t i = 0; i < executed_; ++i) {
    runLayer(i, input);
    if (i == tapped) {
      const float* out = layerOutput(i);
      tap.assign(out, out + spec_.layers[i].output.elements());
    }
  }
  return layerOutput(executed_ - 1);
}

}  // namespace emofleet
