// libFuzzer: the frame entry point. The first 6 bytes choose width (1..64), height (1..64) and format; the
// rest is the frame. Each input goes through a detector twice: with its natural length (so wrong lengths
// are exercised) and padded/truncated to the exact length the description needs (so the conversion,
// letterbox, inference, region decoding and NMS run on arbitrary pixels).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/detector.hpp"
#include "../core/detector_error.hpp"

namespace {

const char* const kCfg =
    "[net]\nwidth=32\nheight=24\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n"
    "[convolutional]\nfilters=14\nsize=1\nactivation=linear\n"
    "[region]\nanchors=1,1,3,2\nclasses=2\nnum=2\nsoftmax=1\n";

std::unique_ptr<emofleet::Detector> makeDetector() {
  const emofleet::NetworkSpec spec = emofleet::parseNetworkCfg(kCfg);
  std::vector<uint8_t> weights(20, 0);
  weights[4] = 2;  // version 0.2.0
  size_t floats = 0;
  for (const emofleet::LayerSpec& layer : spec.layers) floats += layer.storedParameterCount();
  for (size_t i = 0; i < floats; ++i) {
    // Batch-norm variances must stay positive: 0.25 + a small pattern keeps every parameter positive.
    const float value = .25f + static_cast<float>(i % 7) * .05f;
    const auto* bytes = reinterpret_cast<const uint8_t*>(&value);
    weights.insert(weights.end(), bytes, bytes + sizeof value);
  }
  emofleet::DetectorOptions options;
  options.engine.threads = 1;
  return emofleet::Detector::createCpu(kCfg, weights.data(), weights.size(), options);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<emofleet::Detector> detector = makeDetector();
  if (size < 6) return 0;
  emofleet::FrameDescription description;
  description.width = 1 + (data[0] | (data[1] << 8)) % 64;
  description.height = 1 + (data[2] | (data[3] << 8)) % 64;
  description.format = static_cast<emofleet::PixelFormat>(data[4] % 4);
  const emofleet::DetectThresholds thresholds{static_cast<float>(data[5]) / 255.f, .45f};
  const uint8_t* pixels = data + 6;
  const size_t length = size - 6;
  try {
    detector->detect(pixels, length, description, thresholds);
  } catch (const emofleet::DetectorError& error) {
    if (error.code() != emofleet::ErrorCode::BadFrame) __builtin_trap();
  }
  std::vector<uint8_t> exact(emofleet::frameByteLength(description), 0);
  for (size_t i = 0; i < exact.size() && i < length; ++i) exact[i] = pixels[i];
  detector->detect(exact.data(), exact.size(), description, thresholds);
  return 0;
}
