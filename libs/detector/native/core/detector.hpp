// The detector the binding wraps: backend + shared pre/post-processing, safe to call from several threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cpu_engine.hpp"
#include "frame_preprocessor.hpp"
#include "inference_backend.hpp"
#include "network_spec.hpp"
#include "region_head.hpp"
#include "weights_loader.hpp"

namespace emofleet {

struct DetectorOptions {
  EngineOptions engine;
  /**
   * Pipelined: two input slots, so one call preprocesses frame N+1 while another runs inference on frame N.
   * Otherwise one slot: calls run strictly one after the other.
   */
  bool pipelined = true;
};

struct DetectThresholds {
  float score = .25f;
  float iou = .45f;
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
  WeightsHeader weightsHeader;
};

class Detector {
 public:
  /** Parses, loads and plans; throws DetectorError (BadCfg, BadWeights, BadArgument). */
  static std::unique_ptr<Detector> createCpu(const std::string& cfgText, const uint8_t* weights, size_t weightsLength,
                                             const DetectorOptions& options);
  /** Any backend; `spec` supplies the input shape and the [region] parameters for post-processing. */
  Detector(NetworkSpec spec, WeightsHeader header, std::unique_ptr<InferenceBackend> backend,
           const DetectorOptions& options);

  /** Letterbox, infer, decode, NMS. Thread-safe. */
  std::vector<Detection> detect(const uint8_t* frame, size_t byteLength, const FrameDescription& description,
                                const DetectThresholds& thresholds);

  /**
   * Runs on a preprocessed input tensor and returns a copy of layer `layer`'s output (-1: the backend's raw
   * output, i.e. the input of [region]). Thread-safe.
   */
  std::vector<float> forwardRaw(const float* input, size_t count, int layer);

  /** The network input after letterboxing a frame (for tests against a reference letterbox). */
  std::vector<float> preprocess(const uint8_t* frame, size_t byteLength, const FrameDescription& description);

  const DetectorInfo& info() const { return info_; }

 private:
  struct InputSlot {
    std::vector<float> tensor;
    FramePreprocessor preprocessor;
    bool busy = false;
  };
  InputSlot& acquireSlot();
  void releaseSlot(InputSlot& slot);

  NetworkSpec spec_;
  std::unique_ptr<InferenceBackend> backend_;
  const LayerSpec* region_;
  DetectorInfo info_;
  std::mutex backendMutex_;
  std::mutex slotMutex_;
  std::condition_variable slotFreed_;
  std::vector<std::unique_ptr<InputSlot>> slots_;
};

}  // namespace emofleet
