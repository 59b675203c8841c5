// The detector the binding wraps: backend + shared pre/post-processing, safe to call from several threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "classifier_stage.hpp"
#include "cpu_engine.hpp"
#include "frame_preprocessor.hpp"
#include "inference_backend.hpp"
#include "network_spec.hpp"
#include "region_head.hpp"
#include "square_input.hpp"
#include "weights_loader.hpp"

namespace emofleet {

struct DetectorOptions {
  EngineOptions engine;
  /**
   * Pipelined: two input slots, so one call preprocesses frame N+1 while another runs inference on frame N.
   * Otherwise one slot: calls run strictly one after the other.
   */
  bool pipelined = true;
  /** How frames become the network input (darknet's letterbox by default). */
  NetworkInputSpec input;
};

struct DetectThresholds {
  float score = .25f;
  float iou = .45f;
};

/** A detection with the second stage's verdict: `detection` carries the classifier's class and the combined score. */
struct ClassifiedDetection {
  Detection detection;     // classId = classifier argmax, score = detectorScore x scores[classId]
  int detectorClassId = 0;
  float detectorScore = 0;
  std::vector<float> scores;  // the classifier's scores for the crop
};

struct LayerInfo {
  int index;
  int cfgLine;
  LayerKind kind;
  const char* activation;  // conv, connected, shortcut; nullptr for other layers
  Shape output;
  double flops;
};

struct DetectorInfo {
  std::string backend;
  std::string blasCore;  // cpu backend: OpenBLAS's kernel family
  Shape input;
  Shape rawOutput;
  std::vector<LayerInfo> layers;
  size_t activationBytes;
  size_t unplannedActivationBytes;
  size_t scratchBytes;
  double flops;
  int threads;
  bool fused;
  bool hasRegion;
  std::vector<int> int8Layers;  // cpu backend: layers the quantisation plan runs in INT8
  std::vector<int> int8CapableLayers;  // cpu backend: layers that could (dense convolutions)
  std::string int8Kernel;       // "avx512-vnni" | "avx2" | "neon-dotprod" | "portable"; empty when no INT8 layer
  std::vector<std::pair<int, int>> winogradLayers;  // cpu backend: (layer, output tile 2 or 4) run as Winograd
  std::vector<int> directLayers;  // cpu backend: layers run on the direct convolution kernel
  std::vector<int> pooledDirectLayers;  // cpu backend: direct layers run fused with the 2x2 pool after them
  std::vector<int> pointwiseLayers;     // cpu backend: 1x1 layers run on packedGemm with weights packed at load
  WeightsHeader weightsHeader;
  InputFit inputFit;
};

class Detector {
 public:
  /** Parses, loads and plans; throws DetectorError (BadCfg, BadWeights, BadArgument). */
  static std::unique_ptr<Detector> createCpu(const std::string& cfgText, const uint8_t* weights, size_t weightsLength,
                                             const DetectorOptions& options);
  /** Any backend; `spec` supplies the input shape and the [region] parameters for post-processing. */
  Detector(NetworkSpec spec, WeightsHeader header, std::unique_ptr<InferenceBackend> backend,
           const DetectorOptions& options);

  /** Letterbox (or pad to square), infer, decode, NMS. Thread-safe. */
  std::vector<Detection> detect(const uint8_t* frame, size_t byteLength, const FrameDescription& description,
                                const DetectThresholds& thresholds);

  /** Adds the second stage; call before the detector is shared between threads. */
  void setClassifier(std::unique_ptr<ClassifierStage> classifier) { classifier_ = std::move(classifier); }
  const ClassifierStage* classifier() const { return classifier_.get(); }

  /**
   * detect(), then the classifier on each detected box (thresholds and NMS apply to the first stage). Boxes whose
   * clipped crop is smaller than a pixel are dropped. Stage two of one call overlaps stage one of the next.
   * Unsupported without a classifier. Thread-safe.
   */
  std::vector<ClassifiedDetection> detectClassified(const uint8_t* frame, size_t byteLength,
                                                    const FrameDescription& description,
                                                    const DetectThresholds& thresholds);

  /**
   * Runs on a preprocessed input tensor and returns a copy of layer `layer`'s output (-1: the backend's raw
   * output, i.e. the input of [region]). Thread-safe.
   */
  std::vector<float> forwardRaw(const float* input, size_t count, int layer);

  /** One run on an input tensor; a copy of each listed layer's output (cpu backend; calibration). Thread-safe. */
  std::vector<std::vector<float>> forwardLayers(const float* input, size_t count, const std::vector<int>& layers);

  /** The network input detect() feeds for a frame (for tests against a reference preprocessing). */
  std::vector<float> preprocess(const uint8_t* frame, size_t byteLength, const FrameDescription& description);

  const DetectorInfo& info() const { return info_; }

 private:
  struct InputSlot {
    std::vector<float> tensor;
    FramePreprocessor preprocessor;
    SquareInputSampler squareSampler;
    bool busy = false;
  };
  /** Fills `tensor` with the network input for the frame and returns where the frame sits in it. */
  RegionPlacement prepareInput(const uint8_t* frame, size_t byteLength, const FrameDescription& description,
                               FramePreprocessor& preprocessor, SquareInputSampler& sampler, float* tensor) const;
  InputSlot& acquireSlot();
  void releaseSlot(InputSlot& slot);

  NetworkSpec spec_;
  NetworkInputSpec input_;
  std::unique_ptr<InferenceBackend> backend_;
  std::unique_ptr<ClassifierStage> classifier_;
  const LayerSpec* region_;
  DetectorInfo info_;
  std::mutex backendMutex_;
  std::mutex slotMutex_;
  std::condition_variable slotFreed_;
  std::vector<std::unique_ptr<InputSlot>> slots_;
};

}  // namespace emofleet
