#include "classifier_stage.hpp"

#include <algorithm>

#include "detector_error.hpp"
#include "weights_loader.hpp"

namespace emofleet {
namespace {

/** Runs `load`, prefixing BadCfg/BadWeights messages with "classifier " so they name the second network. */
template <typename Load>
auto asClassifier(Load load) -> decltype(load()) {
  try {
    return load();
  } catch (const DetectorError& error) {
    if (error.code() == ErrorCode::BadCfg || error.code() == ErrorCode::BadWeights) {
      throw DetectorError(error.code(), std::string("classifier ") + error.what());
    }
    throw;
  }
}

std::unique_ptr<CpuEngine> loadEngine(const std::string& cfgText, const uint8_t* weights, size_t weightsLength,
                                      const EngineOptions& engine) {
  NetworkSpec spec = asClassifier([&] { return parseNetworkCfg(cfgText); });
  if (spec.layers.back().kind == LayerKind::Region) {
    throw DetectorError(ErrorCode::BadCfg, "classifier cfg:" + std::to_string(spec.layers.back().cfgLine) +
                                               ": a classifier ends in class scores, not [region]");
  }
  LoadedWeights loaded = asClassifier([&] { return loadWeights(spec, weights, weightsLength); });
  return std::make_unique<CpuEngine>(std::move(spec), std::move(loaded), engine);
}

}  // namespace

ClassifierStage::ClassifierStage(const std::string& cfgText, const uint8_t* weights, size_t weightsLength,
                                 const NetworkInputSpec& input, const EngineOptions& engine)
    : engine_(loadEngine(cfgText, weights, weightsLength, engine)),
      input_(input),
      sampler_(engine_->spec().input),
      tensor_(engine_->spec().input.elements()) {
  const NetworkSpec& spec = engine_->spec();
  if (input.fit != InputFit::PadToSquare) {
    throw DetectorError(ErrorCode::BadArgument,
                        "classifier: its input must be pad-to-square (crops are not letterboxed)");
  }
  validateInputSpec(input, spec.input, "classifier");
  info_.input = spec.input;
  info_.classes = static_cast<int>(engine_->outputShape().elements());
  info_.layers = spec.layers.size();
  for (const LayerSpec& layer : spec.layers) info_.flops += layer.flops();
  info_.activationBytes = engine_->activationBytes();
}

std::vector<float> ClassifierStage::prepare(const uint8_t* frame, const FrameDescription& description,
                                            const PixelRect& crop) {
  std::lock_guard<std::mutex> lock(mutex_);
  sampler_.run(frame, description, crop, input_, tensor_.data());
  return tensor_;
}

bool ClassifierStage::classify(const uint8_t* frame, const FrameDescription& description, const Box& box,
                               Classification& out) {
  PixelRect crop;
  if (!clippedCrop(box, description.width, description.height, crop)) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  sampler_.run(frame, description, crop, input_, tensor_.data());
  const float* scores = engine_->infer(tensor_.data());
  out.scores.assign(scores, scores + info_.classes);
  out.classId = static_cast<int>(std::max_element(out.scores.begin(), out.scores.end()) - out.scores.begin());
  return true;
}

}  // namespace emofleet
