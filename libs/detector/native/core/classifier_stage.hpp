// The optional second stage of a detector: a classifier network run on the crop of each detected box (e.g.
// face-api's expression net on each face), with its own input preparation, engine and lock.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cpu_engine.hpp"
#include "frame_preprocessor.hpp"
#include "network_spec.hpp"
#include "region_head.hpp"
#include "square_input.hpp"

namespace emofleet {

struct Classification {
  int classId = 0;            // argmax of `scores`
  std::vector<float> scores;  // the classifier's last layer (probabilities when it ends in [softmax])
};

struct ClassifierInfo {
  Shape input;
  int classes = 0;
  size_t layers = 0;
  double flops = 0;
  size_t activationBytes = 0;
};

class ClassifierStage {
 public:
  /**
   * Parses and loads a classifier (a cfg without [region]; its last layer gives one score per class) on the cpu
   * engine. Errors name the classifier: `classifier cfg:<line>: ...`, `classifier weights: ...`. The input must be
   * pad-to-square (BadArgument otherwise).
   */
  ClassifierStage(const std::string& cfgText, const uint8_t* weights, size_t weightsLength,
                  const NetworkInputSpec& input, const EngineOptions& engine);

  /**
   * Crops `box` out of the frame as face-api does (clipped, floored), prepares it with the classifier's input spec
   * and runs the network. False (and `out` untouched) when the clipped box is smaller than a pixel. Thread-safe:
   * calls are serialised.
   */
  bool classify(const uint8_t* frame, const FrameDescription& description, const Box& box, Classification& out);

  /** The network input classify() would feed for `crop`, for tests against a reference. Thread-safe. */
  std::vector<float> prepare(const uint8_t* frame, const FrameDescription& description, const PixelRect& crop);

  const ClassifierInfo& info() const { return info_; }

 private:
  std::unique_ptr<CpuEngine> engine_;
  NetworkInputSpec input_;
  ClassifierInfo info_;
  SquareInputSampler sampler_;
  std::vector<float> tensor_;
  std::mutex mutex_;
};

}  // namespace emofleet
