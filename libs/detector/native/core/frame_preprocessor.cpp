#include "frame_preprocessor.hpp"

#include <algorithm>

#include "detector_error.hpp"

namespace emofleet {
namespace {

constexpr int kMaxFrameSide = 16384;

float clampByte(float value) { return std::min(255.f, std::max(0.f, value)); }

}  // namespace

PixelFormat parsePixelFormat(const std::string& name) {
  if (name == "rgb24") return PixelFormat::Rgb24;
  if (name == "bgr24") return PixelFormat::Bgr24;
  if (name == "nv12") return PixelFormat::Nv12;
  if (name == "i420") return PixelFormat::I420;
  throw DetectorError(ErrorCode::BadFrame, "frame: unknown format '" + name + "' (rgb24, bgr24, nv12, i420)");
}

size_t frameByteLength(const FrameDescription& frame) {
  const size_t pixels = static_cast<size_t>(frame.width) * static_cast<size_t>(frame.height);
  const size_t chroma = static_cast<size_t>((frame.width + 1) / 2) * static_cast<size_t>((frame.height + 1) / 2);
  switch (frame.format) {
    case PixelFormat::Rgb24:
    case PixelFormat::Bgr24: return pixels * 3;
    case PixelFormat::Nv12:
    case PixelFormat::I420: return pixels + 2 * chroma;
  }
  return 0;
}

void validateFrame(const FrameDescription& frame, size_t byteLength) {
  if (frame.width <= 0 || frame.height <= 0 || frame.width > kMaxFrameSide || frame.height > kMaxFrameSide) {
    throw DetectorError(ErrorCode::BadFrame, "frame: size " + std::to_string(frame.width) + "x" +
                                                 std::to_string(frame.height) + " is outside 1.." +
                                                 std::to_string(kMaxFrameSide));
  }
  const size_t expected = frameByteLength(frame);
  if (byteLength != expected) {
    static const char* const names[] = {"rgb24", "bgr24", "nv12", "i420"};
    throw DetectorError(ErrorCode::BadFrame, std::string("frame: ") + names[static_cast<int>(frame.format)] + " " +
                                                 std::to_string(frame.width) + "x" + std::to_string(frame.height) +
                                                 " needs " + std::to_string(expected) + " bytes, got " +
                                                 std::to_string(byteLength));
  }
}

void convertFrameRow(const uint8_t* frame, const FrameDescription& d, int row, int firstColumn, int columns,
                     float unit, float* rgb) {
  const size_t width = static_cast<size_t>(d.width);
  const size_t count = static_cast<size_t>(columns);
  const size_t first = static_cast<size_t>(firstColumn);
  float* red = rgb;
  float* green = rgb + count;
  float* blue = rgb + 2 * count;
  if (d.format == PixelFormat::Rgb24 || d.format == PixelFormat::Bgr24) {
    const uint8_t* src = frame + (static_cast<size_t>(row) * width + first) * 3;
    const bool bgr = d.format == PixelFormat::Bgr24;
    for (size_t x = 0; x < count; ++x) {
      const float firstChannel = src[3 * x] * unit;
      const float thirdChannel = src[3 * x + 2] * unit;
      red[x] = bgr ? thirdChannel : firstChannel;
      green[x] = src[3 * x + 1] * unit;
      blue[x] = bgr ? firstChannel : thirdChannel;
    }
    return;
  }
  const size_t lumaSize = width * static_cast<size_t>(d.height);
  const size_t chromaWidth = static_cast<size_t>((d.width + 1) / 2);
  const size_t chromaRow = static_cast<size_t>(row / 2);
  const uint8_t* luma = frame + static_cast<size_t>(row) * width;
  for (size_t i = 0; i < count; ++i) {
    const size_t x = first + i;
    float u = 0;
    float v = 0;
    if (d.format == PixelFormat::Nv12) {
      const uint8_t* uv = frame + lumaSize + chromaRow * chromaWidth * 2 + (x / 2) * 2;
      u = uv[0];
      v = uv[1];
    } else {
      const size_t chromaSize = chromaWidth * static_cast<size_t>((d.height + 1) / 2);
      u = frame[lumaSize + chromaRow * chromaWidth + x / 2];
      v = frame[lumaSize + chromaSize + chromaRow * chromaWidth + x / 2];
    }
    const float y = 1.164f * (luma[x] - 16.f);
    u -= 128.f;
    v -= 128.f;
    red[i] = clampByte(y + 1.596f * v) * unit;
    green[i] = clampByte(y - 0.392f * u - 0.813f * v) * unit;
    blue[i] = clampByte(y + 2.017f * u) * unit;
  }
}

void FramePreprocessor::run(const uint8_t* frame, size_t byteLength, const FrameDescription& d, float* out) {
  validateFrame(d, byteLength);
  const int netW = network_.width;
  const int netH = network_.height;
  // letterbox_image: the side that limits the scale gets the full network size.
  int newW = netW;
  int newH = netH;
  if (static_cast<float>(netW) / d.width < static_cast<float>(netH) / d.height) {
    newH = std::max(1, (d.height * netW) / d.width);
  } else {
    newW = std::max(1, (d.width * netH) / d.height);
  }
  const size_t srcW = static_cast<size_t>(d.width);
  const size_t srcH = static_cast<size_t>(d.height);
  const size_t dstW = static_cast<size_t>(newW);
  rowRgb_.resize(3 * srcW);
  horizontal_.resize(3 * srcH * dstW);

  // Pass 1 (resize_image's `part`): resample every source row to newW columns.
  const float wScale = newW > 1 ? static_cast<float>(d.width - 1) / (newW - 1) : 0.f;
  for (int r = 0; r < d.height; ++r) {
    convertFrameRow(frame, d, r, 0, d.width, 1.f / 255.f, rowRgb_.data());
    for (size_t k = 0; k < 3; ++k) {
      const float* src = rowRgb_.data() + k * srcW;
      float* dst = horizontal_.data() + (k * srcH + static_cast<size_t>(r)) * dstW;
      for (int c = 0; c < newW; ++c) {
        if (c == newW - 1 || d.width == 1) {
          dst[c] = src[srcW - 1];
        } else {
          const float sx = c * wScale;
          const int ix = static_cast<int>(sx);
          const float dx = sx - ix;
          dst[c] = (1 - dx) * src[ix] + dx * src[ix + 1];
        }
      }
    }
  }

  // Pass 2: resample columns to newH rows, written straight into the letterboxed network input.
  std::fill(out, out + network_.elements(), .5f);
  const int offsetX = (netW - newW) / 2;
  const int offsetY = (netH - newH) / 2;
  const float hScale = newH > 1 ? static_cast<float>(d.height - 1) / (newH - 1) : 0.f;
  for (size_t k = 0; k < 3; ++k) {
    const float* part = horizontal_.data() + k * srcH * dstW;
    float* plane = out + k * network_.plane();
    for (int r = 0; r < newH; ++r) {
      const float sy = r * hScale;
      const int iy = static_cast<int>(sy);
      const float dy = sy - iy;
      float* dst = plane + static_cast<size_t>(r + offsetY) * static_cast<size_t>(netW) + static_cast<size_t>(offsetX);
      const float* top = part + static_cast<size_t>(iy) * dstW;
      for (size_t c = 0; c < dstW; ++c) dst[c] = (1 - dy) * top[c];
      if (r == newH - 1 || d.height == 1) continue;
      const float* bottom = top + dstW;
      for (size_t c = 0; c < dstW; ++c) dst[c] += dy * bottom[c];
    }
  }
}

}  // namespace emofleet
