#include "pooling.hpp"

#include <algorithm>
#include <limits>
#include <type_traits>
#include <vector>

namespace emofleet {

namespace {

// The identity of max for each element type: every window holds at least one input value, so it never shows.
template <typename T>
T lowest() {
  return std::is_floating_point<T>::value ? -std::numeric_limits<T>::max() : std::numeric_limits<T>::lowest();
}

// 2x2 stride-2 pool, window offset 0: out(y, x) is the max of in(2y..2y+1, 2x..2x+1). An odd input with darknet's
// default padding (size - 1) has one more output row and column than pairs; their windows are clipped to the
// input's last row or column (face-api's 207x207 pool).
template <typename T>
void runTwoByTwo(const LayerSpec& layer, const T* input, T* output, ThreadPool& pool) {
  const Shape in = layer.input;
  const Shape out = layer.output;
  const size_t inWidth = static_cast<size_t>(in.width);
  const size_t inHeight = static_cast<size_t>(in.height);
  const size_t outWidth = static_cast<size_t>(out.width);
  const size_t pairs = std::min(outWidth, inWidth / 2);
  pool.parallelFor(static_cast<size_t>(out.channels), [&](size_t c, int) {
    for (size_t oy = 0; oy < static_cast<size_t>(out.height); ++oy) {
      const T* top = input + c * in.plane() + 2 * oy * inWidth;
      const T* bottom = 2 * oy + 1 < inHeight ? top + inWidth : top;
      T* dst = output + c * out.plane() + oy * outWidth;
      maxPoolTwoByTwoRow(top, bottom, dst, pairs);
      if (outWidth > pairs) dst[pairs] = std::max(top[2 * pairs], bottom[2 * pairs]);
    }
  });
}

// Any 2x2 stride-2 pool with window offset 0: padding 0 (output floor(in / 2)) or 1 (ceil(in / 2)).
bool isTwoByTwoStrideTwo(const LayerSpec& layer) {
  const MaxPoolParams& p = layer.maxPool;
  const auto halves = [](int input, int output) { return output == input / 2 || output == (input + 1) / 2; };
  return p.size == 2 && p.stride == 2 && p.padding / 2 == 0 && halves(layer.input.width, layer.output.width) &&
         halves(layer.input.height, layer.output.height);
}

// YOLO v2-tiny's 2x2 stride-1 pool (window offset 0, output the input's size): out(y, x) is the max of
// in(y..y+1, x..x+1), clipped at the bottom row and the right column. No scratch: each output row reads its two
// input rows once.
template <typename T>
void runTwoByTwoStrideOne(const LayerSpec& layer, const T* input, T* output, ThreadPool& pool) {
  const size_t width = static_cast<size_t>(layer.input.width);
  const size_t height = static_cast<size_t>(layer.input.height);
  const size_t plane = width * height;
  constexpr size_t kChannelGroup = 8;
  const size_t channels = static_cast<size_t>(layer.input.channels);
  pool.parallelFor((channels + kChannelGroup - 1) / kChannelGroup, [&](size_t group, int) {
    const size_t end = std::min(channels, (group + 1) * kChannelGroup);
    for (size_t c = group * kChannelGroup; c < end; ++c) {
      for (size_t y = 0; y < height; ++y) {
        const T* top = input + c * plane + y * width;
        const T* bottom = y + 1 < height ? top + width : top;
        T* dst = output + c * plane + y * width;
        for (size_t x = 0; x + 1 < width; ++x) {
          dst[x] = std::max(std::max(top[x], top[x + 1]), std::max(bottom[x], bottom[x + 1]));
        }
        dst[width - 1] = std::max(top[width - 1], bottom[width - 1]);
      }
    }
  });
}

bool isTwoByTwoStrideOneSameSize(const LayerSpec& layer) {
  const MaxPoolParams& p = layer.maxPool;
  return p.size == 2 && p.stride == 1 && p.padding / 2 == 0 && layer.output.width == layer.input.width &&
         layer.output.height == layer.input.height;
}

// Any other stride-1 pool: separable, so each output row is the max over the window's rows
// (a contiguous loop over the row), then over the window's columns (one contiguous pass per column offset);
// windows are clipped to the input like the general path. Channels go in groups, so the work items are not
// tiny planes.
template <typename T>
void runStrideOne(const LayerSpec& layer, const T* input, T* output, ThreadPool& pool) {
  const MaxPoolParams& p = layer.maxPool;
  const Shape in = layer.input;
  const Shape out = layer.output;
  const int offset = -p.padding / 2;
  const size_t outWidth = static_cast<size_t>(out.width);
  constexpr size_t kChannelGroup = 8;
  const size_t channels = static_cast<size_t>(out.channels);
  pool.parallelFor((channels + kChannelGroup - 1) / kChannelGroup, [&](size_t group, int) {
    std::vector<T> columnMax(static_cast<size_t>(in.width));
    const size_t end = std::min(channels, (group + 1) * kChannelGroup);
    for (size_t c = group * kChannelGroup; c < end; ++c) {
      const T* plane = input + c * in.plane();
      for (int oy = 0; oy < out.height; ++oy) {
        const int y0 = std::max(0, offset + oy);
        const int y1 = std::min(in.height, offset + oy + p.size);
        std::fill(columnMax.begin(), columnMax.end(), lowest<T>());
        for (int y = y0; y < y1; ++y) {
          const T* row = plane + static_cast<size_t>(y) * static_cast<size_t>(in.width);
          for (size_t x = 0; x < columnMax.size(); ++x) columnMax[x] = std::max(columnMax[x], row[x]);
        }
        T* dst = output + c * out.plane() + static_cast<size_t>(oy) * outWidth;
        std::fill(dst, dst + outWidth, lowest<T>());
        for (int dx = 0; dx < p.size; ++dx) {
          const int shift = offset + dx;  // output ox reads column ox + shift
          const int first = std::max(0, -shift);
          const int last = std::min(out.width, in.width - shift);
          for (int ox = first; ox < last; ++ox) dst[ox] = std::max(dst[ox], columnMax[static_cast<size_t>(ox + shift)]);
        }
      }
    }
  });
}

}  // namespace

// The even case of isTwoByTwoStrideTwo: no window is clipped.
bool isPlainTwoByTwoMaxPool(const LayerSpec& layer) {
  return layer.kind == LayerKind::MaxPool && isTwoByTwoStrideTwo(layer) && layer.output.width * 2 == layer.input.width &&
         layer.output.height * 2 == layer.input.height;
}

namespace {

template <typename T>
void runMaxPoolOf(const LayerSpec& layer, const T* input, T* output, ThreadPool& pool) {
  if (isTwoByTwoStrideTwo(layer)) {
    runTwoByTwo(layer, input, output, pool);
    return;
  }
  if (isTwoByTwoStrideOneSameSize(layer)) {
    runTwoByTwoStrideOne(layer, input, output, pool);
    return;
  }
  if (layer.maxPool.stride == 1) {
    runStrideOne(layer, input, output, pool);
    return;
  }
  const MaxPoolParams& p = layer.maxPool;
  const Shape in = layer.input;
  const Shape out = layer.output;
  const int offset = -p.padding / 2;
  pool.parallelFor(static_cast<size_t>(out.channels), [&](size_t c, int) {
    const T* plane = input + c * in.plane();
    T* dst = output + c * out.plane();
    for (int oy = 0; oy < out.height; ++oy) {
      const int y0 = std::max(0, offset + oy * p.stride);
      const int y1 = std::min(in.height, offset + oy * p.stride + p.size);
      for (int ox = 0; ox < out.width; ++ox) {
        const int x0 = std::max(0, offset + ox * p.stride);
        const int x1 = std::min(in.width, offset + ox * p.stride + p.size);
        T best = lowest<T>();
        for (int y = y0; y < y1; ++y) {
          const T* row = plane + static_cast<size_t>(y) * static_cast<size_t>(in.width);
          for (int x = x0; x < x1; ++x) best = std::max(best, row[x]);
        }
        dst[static_cast<size_t>(oy) * static_cast<size_t>(out.width) + static_cast<size_t>(ox)] = best;
      }
    }
  });
}

}  // namespace

void runMaxPool(const LayerSpec& layer, const float* input, float* output, ThreadPool& pool) {
  runMaxPoolOf(layer, input, output, pool);
}

void runMaxPool(const LayerSpec& layer, const uint8_t* input, uint8_t* output, ThreadPool& pool) {
  runMaxPoolOf(layer, input, output, pool);
}

void runAveragePool(const LayerSpec& layer, const float* input, float* output) {
  const size_t plane = layer.input.plane();
  for (size_t c = 0; c < static_cast<size_t>(layer.input.channels); ++c) {
    float sum = 0;
    for (size_t i = 0; i < plane; ++i) sum += input[c * plane + i];
    output[c] = sum / static_cast<float>(plane);
  }
}

}  // namespace emofleet
