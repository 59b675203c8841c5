#include "cpu_engine.hpp"

#include <algorithm>
#include <chrono>
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
  quantized_.resize(spec_.layers.size());
  const Int8Kernel kernel = options_.int8Layers.empty() ? Int8Kernel::Portable : detectInt8Kernel();
  size_t int8Scratch = 0;
  for (const Int8LayerChoice& choice : options_.int8Layers) {
    if (choice.layer < 0 || static_cast<size_t>(choice.layer) >= executed_) {
      throw DetectorError(ErrorCode::BadArgument, "quantization: layer " + std::to_string(choice.layer) +
                                                      " is outside 0.." + std::to_string(executed_ - 1));
    }
    const size_t index = static_cast<size_t>(choice.layer);
    if (quantized_[index]) {
      throw DetectorError(ErrorCode::BadArgument, "quantization: layer " + std::to_string(choice.layer) + " is listed twice");
    }
    quantized_[index] = std::make_unique<QuantizedConvolution>(spec_.layers[index], weights_.layers[index], choice, kernel);
    weights_.layers[index].weights = std::vector<float>();  // the int8 copy is all that runs
    int8Scratch = std::max(int8Scratch, quantized_[index]->scratchBytes(pool_.size()));
  }
  int8Scratch_.assign(int8Scratch, 0);
  // Winograd, the direct kernel for wide layers with few channels, or packedGemm for pointwise layers: kernels
  // transformed, re-blocked or packed once here; the layer's im2col weights are then dropped (it never runs them). Only in fused runs: `fuse: false`
  // is the darknet-style reference and keeps darknet's im2col algorithm; `winograd: off` keeps im2col too (the
  // bench's im2col row).
  winograd_.resize(spec_.layers.size());
  direct_.resize(spec_.layers.size());
  pointwise_.resize(spec_.layers.size());
  if (options_.fuse) {
    for (size_t i = 0; i < executed_; ++i) {
      if (quantized_[i]) continue;
      const int tile = winogradTileFor(spec_.layers[i], options_.winograd);
      if (tile != 0) {
        winograd_[i] = std::make_unique<WinogradConvolution>(spec_.layers[i], weights_.layers[i], tile, &pool_);
        scratch = std::max(scratch, winograd_[i]->scratchFloats());
      } else if (options_.winograd == WinogradMode::Auto && directConvolutionFor(spec_.layers[i])) {
        direct_[i] = std::make_unique<DirectConvolution>(spec_.layers[i], weights_.layers[i]);
        scratch = std::max(scratch, direct_[i]->scratchFloats(pool_.size()));
      } else if (options_.winograd == WinogradMode::Auto && pointwiseConvolutionFor(spec_.layers[i])) {
        pointwise_[i] = std::make_unique<PointwiseConvolution>(spec_.layers[i], weights_.layers[i]);
        scratch = std::max(scratch, pointwise_[i]->scratchFloats());
      } else {
        continue;
      }
      weights_.layers[i].weights = std::vector<float>();
    }
  }
  poolFused_.assign(spec_.layers.size(), false);
  for (size_t i = 0; i + 1 < executed_; ++i) poolFused_[i] = direct_[i] && canFusePool(i);
  planByteOutputs();
  scratch_.assign(scratch, 0.f);
}

// Collects the layers that read `layer`'s output: INT8 convolutions into `readers`, max pools into `pools`
// (and, recursively, what reads them). False when anything else reads it, or it is the network's output.
bool CpuEngine::collectInt8Readers(size_t layer, const std::vector<std::vector<size_t>>& consumers,
                                   std::vector<size_t>& pools, std::vector<size_t>& readers) const {
  if (layer + 1 >= executed_ || consumers[layer].empty()) return false;
  for (size_t reader : consumers[layer]) {
    const LayerSpec& spec = spec_.layers[reader];
    if (spec.inputs.size() != 1) return false;
    if (spec.kind == LayerKind::Convolutional && quantized_[reader]) {
      readers.push_back(reader);
    } else if (spec.kind == LayerKind::MaxPool) {
      pools.push_back(reader);
      if (!collectInt8Readers(reader, consumers, pools, readers)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// An INT8 convolution read only by an INT8 convolution (directly or through max pools) quantises its output
// for that reader in its epilogue: uint8 is written instead of float and the readers skip their quantisation.
// Quantisation is monotonic, so a max pool over the uint8 values gives what quantising its float output would:
// infer() computes the same numbers either way. Fused runs only (`fuse: false` is the reference path).
void CpuEngine::planByteOutputs() {
  byteOutput_.assign(spec_.layers.size(), false);
  byteQuantization_.assign(spec_.layers.size(), Int8LayerChoice{});
  if (!options_.fuse) return;
  std::vector<std::vector<size_t>> consumers(executed_);
  for (size_t j = 0; j < executed_; ++j) {
    for (int producer : spec_.layers[j].inputs) {
      if (producer >= 0) consumers[static_cast<size_t>(producer)].push_back(j);
    }
  }
  for (size_t i = 0; i < executed_; ++i) {
    if (!quantized_[i]) continue;
    std::vector<size_t> pools;
    std::vector<size_t> readers;
    // A darknet layer reads the layer before it, any other only through a route: so one reader at most.
    if (!collectInt8Readers(i, consumers, pools, readers) || readers.size() != 1) continue;
    byteOutput_[i] = true;
    byteQuantization_[i] = quantized_[readers.front()]->choice();
    for (size_t pool : pools) byteOutput_[pool] = true;
  }
}

std::vector<int> CpuEngine::byteOutputLayers() const {
  std::vector<int> layers;
  for (size_t i = 0; i < byteOutput_.size(); ++i) {
    if (byteOutput_[i]) layers.push_back(static_cast<int>(i));
  }
  return layers;
}

// A direct convolution whose only consumer is the next layer, a plain 2x2 max pool, runs pooled: its output
// is never written. Not when the pool's output overlaps the convolution's input in the arena (the planner
// may reuse the input's memory once the convolution is done, which the fused run is not).
bool CpuEngine::canFusePool(size_t index) const {
  const LayerSpec& next = spec_.layers[index + 1];
  if (!isPlainTwoByTwoMaxPool(next) || next.inputs.front() != static_cast<int>(index)) return false;
  for (size_t j = 0; j < executed_; ++j) {
    if (j == index + 1) continue;
    for (int producer : spec_.layers[j].inputs) {
      if (producer == static_cast<int>(index)) return false;
    }
  }
  const int producer = spec_.layers[index].inputs.front();
  if (producer < 0) return true;  // the network input is not in the arena
  const size_t inputBegin = plan_.outputOffset[static_cast<size_t>(producer)];
  const size_t inputEnd = inputBegin + spec_.layers[static_cast<size_t>(producer)].output.elements();
  const size_t outputBegin = plan_.outputOffset[index + 1];
  const size_t outputEnd = outputBegin + next.output.elements();
  return inputEnd <= outputBegin || outputEnd <= inputBegin;
}

std::vector<int> CpuEngine::pooledDirectLayers() const {
  std::vector<int> layers;
  for (size_t i = 0; i < poolFused_.size(); ++i) {
    if (poolFused_[i]) layers.push_back(static_cast<int>(i));
  }
  return layers;
}

std::vector<std::pair<int, int>> CpuEngine::winogradLayers() const {
  std::vector<std::pair<int, int>> layers;
  for (size_t i = 0; i < winograd_.size(); ++i) {
    if (winograd_[i]) layers.emplace_back(static_cast<int>(i), winograd_[i]->tile());
  }
  return layers;
}

std::vector<int> CpuEngine::directLayers() const {
  std::vector<int> layers;
  for (size_t i = 0; i < direct_.size(); ++i) {
    if (direct_[i]) layers.push_back(static_cast<int>(i));
  }
  return layers;
}

std::vector<int> CpuEngine::pointwiseLayers() const {
  std::vector<int> layers;
  for (size_t i = 0; i < pointwise_.size(); ++i) {
    if (pointwise_[i]) layers.push_back(static_cast<int>(i));
  }
  return layers;
}

std::vector<int> CpuEngine::int8LayerIndices() const {
  std::vector<int> indices;
  for (size_t i = 0; i < quantized_.size(); ++i) {
    if (quantized_[i]) indices.push_back(static_cast<int>(i));
  }
  return indices;
}

const char* CpuEngine::int8KernelName() const {
  for (const auto& layer : quantized_) {
    if (layer) return emofleet::int8KernelName(layer->kernel());
  }
  return "";
}

Shape CpuEngine::outputShape() const { return spec_.layers[executed_ - 1].output; }

const float* CpuEngine::layerOutput(size_t layer) const { return arena_.data() + plan_.outputOffset[layer]; }
float* CpuEngine::layerOutput(size_t layer) { return arena_.data() + plan_.outputOffset[layer]; }

const float* CpuEngine::layerInput(const float* networkInput, int producer) const {
  return producer < 0 ? networkInput : layerOutput(static_cast<size_t>(producer));
}

void CpuEngine::runLayer(size_t index, const float* networkInput, bool fused) {
  const LayerSpec& layer = spec_.layers[index];
  const int producer = layer.inputs.front();
  const float* input = layerInput(networkInput, producer);
  float* output = layerOutput(index);
  if (fused && poolFused_[index]) {
    direct_[index]->runPooled(input, layerOutput(index + 1), scratch_.data(), pool_);
    return;
  }
  if (fused && index > 0 && poolFused_[index - 1]) return;  // written by the convolution before it
  const bool bytesIn = fused && producer >= 0 && byteOutput_[static_cast<size_t>(producer)];
  const bool bytesOut = fused && byteOutput_[index];
  switch (layer.kind) {
    case LayerKind::Convolutional:
      if (quantized_[index]) {
        Int8Input in;
        if (bytesIn) {
          in.bytes = reinterpret_cast<const uint8_t*>(input);
        } else {
          in.floats = input;
        }
        Int8Output out;
        if (bytesOut) {
          out.bytes = reinterpret_cast<uint8_t*>(output);
          out.scale = byteQuantization_[index].inputScale;
          out.zeroPoint = byteQuantization_[index].inputZeroPoint;
        } else {
          out.floats = output;
        }
        quantized_[index]->run(in, out, int8Scratch_.data(), pool_);
        return;
      }
      if (winograd_[index]) {
        winograd_[index]->run(input, output, scratch_.data(), pool_);
        return;
      }
      if (direct_[index]) {
        direct_[index]->run(input, output, scratch_.data(), pool_);
        return;
      }
      if (pointwise_[index]) {
        pointwise_[index]->run(input, output, scratch_.data(), pool_);
        return;
      }
      runConvolution(layer, weights_.layers[index], input, output, scratch_.data(), pool_, options_.fuse);
      return;
    case LayerKind::MaxPool:
      if (bytesOut) {
        runMaxPool(layer, reinterpret_cast<const uint8_t*>(input), reinterpret_cast<uint8_t*>(output), pool_);
      } else {
        runMaxPool(layer, input, output, pool_);
      }
      return;
    case LayerKind::Route: {
      size_t offset = 0;
      for (size_t i = 0; i < layer.inputs.size(); ++i) {
        const size_t part = static_cast<size_t>(layer.inputs[i]);
        const size_t count = spec_.layers[part].output.elements();
        const float* source = layerOutput(part);
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
  for (size_t i = 0; i < executed_; ++i) runLayer(i, input, true);
  return layerOutput(executed_ - 1);
}

float* CpuEngine::inferTimed(const float* input, std::vector<double>& layerSeconds) {
  using Clock = std::chrono::steady_clock;
  layerSeconds.assign(executed_, 0.);
  for (size_t i = 0; i < executed_; ++i) {
    const auto start = Clock::now();
    runLayer(i, input, true);
    layerSeconds[i] = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return layerOutput(executed_ - 1);
}

float* CpuEngine::inferWithTap(const float* input, int layer, std::vector<float>& tap) {
  if (layer < 0 || static_cast<size_t>(layer) >= executed_) {
    throw DetectorError(ErrorCode::BadArgument, "layer " + std::to_string(layer) + " is outside 0.." +
                                                    std::to_string(executed_ - 1));
  }
  const size_t tapped = static_cast<size_t>(layer);
  for (size_t i = 0; i < executed_; ++i) {
    runLayer(i, input, false);  // every layer's own output, as a tap expects
    if (i == tapped) {
      const float* out = layerOutput(i);
      tap.assign(out, out + spec_.layers[i].output.elements());
    }
  }
  return layerOutput(executed_ - 1);
}

void CpuEngine::inferWithTaps(const float* input, const std::vector<int>& layers, std::vector<std::vector<float>>& taps) {
  for (int layer : layers) {
    if (layer < 0 || static_cast<size_t>(layer) >= executed_) {
      throw DetectorError(ErrorCode::BadArgument, "layer " + std::to_string(layer) + " is outside 0.." +
                                                      std::to_string(executed_ - 1));
    }
  }
  taps.assign(layers.size(), std::vector<float>());
  for (size_t i = 0; i < executed_; ++i) {
    runLayer(i, input, false);
    for (size_t t = 0; t < layers.size(); ++t) {
      if (static_cast<size_t>(layers[t]) != i) continue;
      const float* out = layerOutput(i);
      taps[t].assign(out, out + spec_.layers[i].output.elements());
    }
  }
}

}  // namespace emofleet
