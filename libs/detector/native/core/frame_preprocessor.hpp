// Camera frames (uint8 RGB24 / BGR24 / NV12 / I420, packed rows) -> darknet's letterboxed NCHW RGB network input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "network_spec.hpp"

namespace emofleet {

enum class PixelFormat { Rgb24, Bgr24, Nv12, I420 };

/** Throws BadFrame for anything but "rgb24", "bgr24", "nv12", "i420". */
PixelFormat parsePixelFormat(const std::string& name);

struct FrameDescription {
  int width = 0;
  int height = 0;
  PixelFormat format = PixelFormat::Rgb24;
};

/** Exact byte length of a packed frame (4:2:0 chroma planes are ceil(w/2) x ceil(h/2)). */
size_t frameByteLength(const FrameDescription& frame);

/** Throws BadFrame naming what is wrong (size limits, buffer length). */
void validateFrame(const FrameDescription& frame, size_t byteLength);

/**
 * Pixels [firstColumn, firstColumn + columns) of row `row` as three float planes (R, G, B, each `columns` long),
 * every value scaled by `unit` (1/255: 0..1; 1: 0..255). YUV uses BT.601 limited range, clamped to 0..255
 * before scaling, not rounded to 8 bits.
 */
void convertFrameRow(const uint8_t* frame, const FrameDescription& description, int row, int firstColumn, int columns,
                     float unit, float* rgbPlanes);

/**
 * darknet's letterbox_image: keep the aspect ratio, resize with darknet's resize_image (two-pass bilinear,
 * sample positions c * (src-1)/(dst-1), i.e. corners aligned), center in the network input filled with 0.5,
 * values in 0..1, planes R, G, B. YUV is converted with BT.601 limited-range coefficients (what UVC cameras
 * and V4L2 deliver) without rounding to 8 bits. Scratch buffers are kept between calls.
 */
class FramePreprocessor {
 public:
  explicit FramePreprocessor(const Shape& networkInput) : network_(networkInput) {}

  /** Writes network_.elements() floats to `out`. */
  void run(const uint8_t* frame, size_t byteLength, const FrameDescription& description, float* out);

 private:
  Shape network_;
  std::vector<float> rowRgb_;       // 3 x source width
  std::vector<float> horizontal_;   // 3 x source height x resized width
};

}  // namespace emofleet
