// How a frame (or a region of it) becomes a network input: darknet's letterbox, or face-api's pad-to-square
// + TF bilinear resize + per-channel normalisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "frame_preprocessor.hpp"
#include "network_spec.hpp"
#include "region_head.hpp"

namespace emofleet {

enum class InputFit {
  Letterbox,    // darknet's letterbox_image: aspect kept, centred, grey fill, RGB / 255 (frame_preprocessor)
  PadToSquare,  // zero padding to a square, bilinear resize, (rgb - mean) * scale
};

enum class SquarePadding {
  BottomRight,  // face-api's padToSquare(image, false): all padding after the image
  Centred,      // padToSquare(image, true): round(diff / 2) after, the rest before
};

struct NetworkInputSpec {
  InputFit fit = InputFit::Letterbox;
  SquarePadding padding = SquarePadding::BottomRight;
  float mean[3] = {0, 0, 0};  // subtracted from 0..255 RGB (PadToSquare only)
  float scale = 1.f / 255.f;  // then multiplied (PadToSquare only)
};

/** A rectangle of whole pixels inside a frame. */
struct PixelRect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

/**
 * Throws BadArgument when `spec` cannot feed a network of this input shape (PadToSquare needs a square, 3-channel
 * input; mean and scale must be finite, scale non-zero). `what` names the network in the message.
 */
void validateInputSpec(const NetworkInputSpec& spec, const Shape& network, const char* what);

/**
 * face-api's NetInput.toBatchTensor for one region of a frame, then its normalisation: the region is padded with
 * zeros to a square (S = max(width, height)), resized to the network's N x N with TF's resizeBilinear
 * (align_corners=false, half_pixel_centers=false: source = dst * S / N, floor and min(S - 1, ceil) neighbours),
 * and every value becomes (v - mean[channel]) * scale, planes R, G, B. Scratch rows are kept between calls; not
 * thread-safe.
 */
class SquareInputSampler {
 public:
  /** `network` must be square (validateInputSpec). */
  explicit SquareInputSampler(const Shape& network) : network_(network) {}

  /** Writes network.elements() floats to `out`. The region must lie inside the frame and not be empty. */
  void run(const uint8_t* frame, const FrameDescription& description, const PixelRect& region,
           const NetworkInputSpec& spec, float* out);

 private:
  /** Row `paddedRow` of the padded square (0..255 RGB planes, `side` wide), converted at most once per run. */
  const float* paddedRow(int paddedRow);

  Shape network_;
  const uint8_t* frame_ = nullptr;
  FrameDescription description_;
  PixelRect region_;
  int side_ = 0;
  int padTop_ = 0;
  int padLeft_ = 0;
  std::vector<float> rows_[2];
  int cachedRow_[2] = {-1, -1};
  std::vector<float> frameRow_;
};

/**
 * Where a frame of `width` x `height` sits in the square network input after padding (for decodeRegion). Bottom-right
 * padding uses face-api's rounded content size (computeReshapedDimensions: round(width * N / S)), so decoded boxes
 * equal face-api's; centred padding the exact fractions.
 */
RegionPlacement squarePlacement(int width, int height, const Shape& network, SquarePadding padding);

/**
 * face-api's crop of a detected box (Box.clipAtImageBorders(...).floor()): clipped to the frame, then x, y, width
 * and height rounded down. Returns false when nothing of a pixel is left.
 */
bool clippedCrop(const Box& box, int frameWidth, int frameHeight, PixelRect& crop);

}  // namespace emofleet
