#include "detector.hpp"

#include "detector_error.hpp"
#include "kernels/sgemm.hpp"

namespace emofleet {
namespace {

DetectorInfo describe(const NetworkSpec& spec, const WeightsHeader& header, const InferenceBackend& backend) {
  DetectorInfo info{};
  info.backend = backend.name();
  info.input = spec.input;
  info.rawOutput = backend.outputShape();
  info.flops = 0;
  for (const LayerSpec& layer : spec.layers) {
    const char* activation = nullptr;
    if (layer.kind == LayerKind::Convolutional) activation = activationName(layer.convolution.activation);
    if (layer.kind == LayerKind::Connected) activation = activationName(layer.connected.activation);
    if (layer.kind == LayerKind::Shortcut) activation = activationName(layer.shortcutActivation);
    info.layers.push_back(LayerInfo{layer.index, layer.cfgLine, layer.kind, activation, layer.output, layer.flops()});
    info.flops += layer.flops();
  }
  info.hasRegion = !spec.layers.empty() && spec.layers.back().kind == LayerKind::Region;
  info.weightsHeader = header;
  info.inputFit = InputFit::Letterbox;
  return info;
}

}  // namespace

std::unique_ptr<Detector> Detector::createCpu(const std::string& cfgText, const uint8_t* weights, size_t weightsLength,
                                              const DetectorOptions& options) {
  NetworkSpec spec = parseNetworkCfg(cfgText);
  LoadedWeights loaded = loadWeights(spec, weights, weightsLength);
  const WeightsHeader header = loaded.header;
  auto engine = std::make_unique<CpuEngine>(spec, std::move(loaded), options.engine);
  const CpuEngine& cpu = *engine;
  auto detector = std::make_unique<Detector>(std::move(spec), header, std::move(engine), options);
  detector->info_.activationBytes = cpu.activationBytes();
  detector->info_.unplannedActivationBytes = cpu.unplannedActivationBytes();
  detector->info_.scratchBytes = cpu.scratchBytes();
  detector->info_.threads = cpu.threads();
  detector->info_.fused = cpu.fused();
  detector->info_.blasCore = blasCoreName();
  detector->info_.int8Layers = cpu.int8LayerIndices();
  detector->info_.int8Kernel = cpu.int8KernelName();
  detector->info_.winogradLayers = cpu.winogradLayers();
  detector->info_.directLayers = cpu.directLayers();
  detector->info_.pooledDirectLayers = cpu.pooledDirectLayers();
  detector->info_.pointwiseLayers = cpu.pointwiseLayers();
  detector->info_.int8CapableLayers = int8CapableLayers(cpu.spec(), cpu.executedLayers());
  return detector;
}

Detector::Detector(NetworkSpec spec, WeightsHeader header, std::unique_ptr<InferenceBackend> backend,
                   const DetectorOptions& options)
    : spec_(std::move(spec)), input_(options.input), backend_(std::move(backend)), region_(nullptr) {
  validateInputSpec(input_, spec_.input, "detector");
  info_ = describe(spec_, header, *backend_);
  info_.inputFit = input_.fit;
  if (info_.hasRegion) region_ = &spec_.layers.back();
  const size_t slots = options.pipelined ? 2 : 1;
  for (size_t i = 0; i < slots; ++i) {
    auto slot = std::make_unique<InputSlot>(InputSlot{std::vector<float>(spec_.input.elements()),
                                                      FramePreprocessor(spec_.input),
                                                      SquareInputSampler(spec_.input), false});
    slots_.push_back(std::move(slot));
  }
}

RegionPlacement Detector::prepareInput(const uint8_t* frame, size_t byteLength, const FrameDescription& description,
                                       FramePreprocessor& preprocessor, SquareInputSampler& sampler,
                                       float* tensor) const {
  if (input_.fit == InputFit::Letterbox) {
    preprocessor.run(frame, byteLength, description, tensor);
    return letterboxPlacement(
        LetterboxGeometry{description.width, description.height, spec_.input.width, spec_.input.height});
  }
  validateFrame(description, byteLength);
  sampler.run(frame, description, PixelRect{0, 0, description.width, description.height}, input_, tensor);
  return squarePlacement(description.width, description.height, spec_.input, input_.padding);
}

Detector::InputSlot& Detector::acquireSlot() {
  std::unique_lock<std::mutex> lock(slotMutex_);
  for (;;) {
    for (auto& slot : slots_) {
      if (!slot->busy) {
        slot->busy = true;
        return *slot;
      }
    }
    slotFreed_.wait(lock);
  }
}

void Detector::releaseSlot(InputSlot& slot) {
  {
    std::lock_guard<std::mutex> lock(slotMutex_);
    slot.busy = false;
  }
  slotFreed_.notify_one();
}

std::vector<Detection> Detector::detect(const uint8_t* frame, size_t byteLength, const FrameDescription& description,
                                        const DetectThresholds& thresholds) {
  if (region_ == nullptr) {
    throw DetectorError(ErrorCode::Unsupported, "detect() needs a network that ends in [region]; use forwardRaw()");
  }
  if (spec_.input.channels != 3) {
    throw DetectorError(ErrorCode::Unsupported, "detect() needs a 3-channel network input, the cfg has " +
                                                    std::to_string(spec_.input.channels));
  }
  if (!(thresholds.score >= 0 && thresholds.score <= 1) || !(thresholds.iou >= 0 && thresholds.iou <= 1)) {
    throw DetectorError(ErrorCode::BadArgument, "scoreThreshold and iouThreshold must be within 0..1");
  }
  validateFrame(description, byteLength);
  InputSlot& slot = acquireSlot();
  std::vector<Detection> candidates;
  try {
    const RegionPlacement placement =
        prepareInput(frame, byteLength, description, slot.preprocessor, slot.squareSampler, slot.tensor.data());
    std::lock_guard<std::mutex> lock(backendMutex_);
    // The backend's output buffer is reused by the next call: activate and decode it under the lock.
    float* raw = backend_->infer(slot.tensor.data());
    activateRegion(region_->region, region_->input, raw);
    candidates = decodeRegion(region_->region, region_->input, raw, placement, thresholds.score);
  } catch (...) {
    releaseSlot(slot);
    throw;
  }
  releaseSlot(slot);
  return suppressOverlaps(std::move(candidates), thresholds.iou);
}

std::vector<ClassifiedDetection> Detector::detectClassified(const uint8_t* frame, size_t byteLength,
                                                            const FrameDescription& description,
                                                            const DetectThresholds& thresholds) {
  if (!classifier_) throw DetectorError(ErrorCode::Unsupported, "this detector has no classifier stage");
  const std::vector<Detection> detections = detect(frame, byteLength, description, thresholds);
  std::vector<ClassifiedDetection> classified;
  classified.reserve(detections.size());
  Classification classification;
  for (const Detection& detection : detections) {
    if (!classifier_->classify(frame, description, detection.box, classification)) continue;
    ClassifiedDetection item;
    item.detectorClassId = detection.classId;
    item.detectorScore = detection.score;
    item.detection.box = detection.box;
    item.detection.classId = classification.classId;
    item.detection.score = detection.score * classification.scores[static_cast<size_t>(classification.classId)];
    item.scores = classification.scores;
    classified.push_back(std::move(item));
  }
  return classified;
}

std::vector<float> Detector::forwardRaw(const float* input, size_t count, int layer) {
  if (count != spec_.input.elements()) {
    throw DetectorError(ErrorCode::BadArgument, "input tensor has " + std::to_string(count) + " floats, the network takes " +
                                                    std::to_string(spec_.input.elements()) + " (" +
                                                    std::to_string(spec_.input.channels) + "x" +
                                                    std::to_string(spec_.input.height) + "x" +
                                                    std::to_string(spec_.input.width) + ")");
  }
  std::lock_guard<std::mutex> lock(backendMutex_);
  if (layer < 0) {
    const float* raw = backend_->infer(input);
    return std::vector<float>(raw, raw + backend_->outputShape().elements());
  }
  auto* cpu = dynamic_cast<CpuEngine*>(backend_.get());
  if (cpu == nullptr) {
    throw DetectorError(ErrorCode::Unsupported, "per-layer outputs are only available on the cpu backend");
  }
  std::vector<float> tap;
  cpu->inferWithTap(input, layer, tap);
  return tap;
}

std::vector<std::vector<float>> Detector::forwardLayers(const float* input, size_t count, const std::vector<int>& layers) {
  if (count != spec_.input.elements()) {
    throw DetectorError(ErrorCode::BadArgument, "input tensor has " + std::to_string(count) + " floats, the network takes " +
                                                    std::to_string(spec_.input.elements()));
  }
  std::lock_guard<std::mutex> lock(backendMutex_);
  auto* cpu = dynamic_cast<CpuEngine*>(backend_.get());
  if (cpu == nullptr) {
    throw DetectorError(ErrorCode::Unsupported, "per-layer outputs are only available on the cpu backend");
  }
  std::vector<std::vector<float>> taps;
  cpu->inferWithTaps(input, layers, taps);
  return taps;
}

std::vector<float> Detector::preprocess(const uint8_t* frame, size_t byteLength, const FrameDescription& description) {
  if (spec_.input.channels != 3) {
    throw DetectorError(ErrorCode::Unsupported, "frames need a 3-channel network input");
  }
  std::vector<float> tensor(spec_.input.elements());
  FramePreprocessor preprocessor(spec_.input);
  SquareInputSampler sampler(spec_.input);
  prepareInput(frame, byteLength, description, preprocessor, sampler, tensor.data());
  return tensor;
}

}  // namespace emofleet
