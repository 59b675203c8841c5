#include "direct_convolution.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "../detector_error.hpp"
#include "activation.hpp"
#include "packed_gemm.hpp"
#include "pooling.hpp"
#include "vector_ops.hpp"

namespace emofleet {
namespace {

constexpr size_t kVector = static_cast<size_t>(kGemmVectorFloats);
using namespace vector_ops;
typedef int32_t Mask __attribute__((vector_size(kGemmVectorFloats * sizeof(int32_t))));

constexpr int kFilterBlock = 4;
// Pixel vectors per register block: 4 filters x kRowVectors accumulators + kRowVectors input vectors + one
// broadcast must fit the vector registers: 4 x 6 + 6 + 1 = 31 of AVX-512's and NEON's 32, 4 x 3 + 3 + 1 = 16
// of AVX2's and SSE's 16.
#if defined(__AVX512F__) || defined(__aarch64__)
constexpr int kRowVectors = 6;
#else
constexpr int kRowVectors = 3;
#endif

// The rule behind directConvolutionFor, from per-layer CPU times (tools/profile_winograd.cpp, 1 thread, see the
// README's Benchmark section): on the first layer (3 channels, 416x416) direct is 1.4-2.0x im2col + OpenBLAS and
// Winograd is slower than both; from 16 channels up Winograd F(4,3) beats direct (1.3-1.9x at 16-32 channels);
// on 1x1 layers (no overlap between neighbouring patches to reuse) im2col + OpenBLAS wins (0.5-0.7x).
constexpr int kMaxDirectChannels = 15;
constexpr int kMinDirectWidth = 52;

// Lanes of `a` where `pick` is set (all ones), else of `b`: bitwise, so GCC 7's vector extensions take it too.
inline Vec select(Mask pick, Vec a, Vec b) {
  return reinterpret_cast<Vec>((reinterpret_cast<Mask>(a) & pick) | (reinterpret_cast<Mask>(b) & ~pick));
}

// Bias and activation on a whole vector (logistic, which needs exp, is applied by the caller after the store).
inline Vec biasActivateVector(Vec v, float bias, Activation activation) {
  v += broadcast(bias);
  switch (activation) {
    case Activation::Leaky: {
      const Vec scaled = v * broadcast(.1f);
      return select(v > scaled, v, scaled);  // leaky(v) = max(v, 0.1 v)
    }
    case Activation::Relu: return select(v > Vec{}, v, Vec{});
    case Activation::Linear:
    case Activation::Logistic: return v;
  }
  return v;
}

/**
 * One register block: for the (up to) 4 filters of a block, `pixels` (<= R vectors) output pixels of one row,
 * summed over (tap, kx) from the padded rows (`taps` = channels x size, one row each) with that block's weights
 * `w`, then bias + activation, stored to dst[f] (null for the padding filters of a last, partial block).
 */
template <int R>
inline void registerBlock(const float* rows, size_t rowStride, size_t taps, int size, const float* w,
                          const float* bias, Activation activation, float* const dst[kFilterBlock], size_t pixels) {
  Vec acc[kFilterBlock][R];
  for (int f = 0; f < kFilterBlock; ++f) {
    for (int r = 0; r < R; ++r) acc[f][r] = Vec{};
  }
  for (size_t tap = 0; tap < taps; ++tap) {
    const float* src = rows + tap * rowStride;
    for (int kx = 0; kx < size; ++kx) {
      Vec in[R];
      for (int r = 0; r < R; ++r) in[r] = load(src + kx + static_cast<size_t>(r) * kVector);
      for (int f = 0; f < kFilterBlock; ++f) {
        const Vec weight = broadcast(w[f]);
        for (int r = 0; r < R; ++r) acc[f][r] += in[r] * weight;
      }
      w += kFilterBlock;
    }
  }
  for (int f = 0; f < kFilterBlock; ++f) {
    if (dst[f] == nullptr) continue;
    for (int r = 0; r < R; ++r) {
      const Vec v = biasActivateVector(acc[f][r], bias[f], activation);
      const size_t at = static_cast<size_t>(r) * kVector;
      if (at + kVector <= pixels) {
        store(dst[f] + at, v);
      } else {
        float tail[kVector];
        store(tail, v);
        std::memcpy(dst[f] + at, tail, (pixels - at) * sizeof(float));
      }
    }
    if (activation == Activation::Logistic) activateInPlace(dst[f], pixels, activation);
  }
}

template <int R>
void registerBlockFor(int vectors, const float* rows, size_t rowStride, size_t taps, int size, const float* w,
                      const float* bias, Activation activation, float* const dst[kFilterBlock], size_t pixels) {
  if (vectors == R) {
    registerBlock<R>(rows, rowStride, taps, size, w, bias, activation, dst, pixels);
  } else if (R > 1) {
    registerBlockFor<(R > 1 ? R - 1 : 1)>(vectors, rows, rowStride, taps, size, w, bias, activation, dst, pixels);
  }
}

}  // namespace

bool directConvolutionFor(const LayerSpec& layer) {
  const ConvolutionParams& p = layer.convolution;
  return layer.kind == LayerKind::Convolutional && p.groups == 1 && p.stride == 1 && p.size > 1 &&
         layer.input.channels <= kMaxDirectChannels && layer.output.width >= kMinDirectWidth;
}

DirectConvolution::DirectConvolution(const LayerSpec& layer, const LayerParameters& params)
    : input_(layer.input),
      output_(layer.output),
      size_(layer.convolution.size),
      padding_(layer.convolution.padding),
      activation_(layer.convolution.activation),
      rowStride_(roundUp(static_cast<size_t>(layer.output.width), kVector) + static_cast<size_t>(size_ - 1)),
      bias_(params.bias) {
  bias_.resize(roundUp(bias_.size(), kFilterBlock), 0.f);
  if (layer.convolution.groups != 1 || layer.convolution.stride != 1) {
    throw DetectorError(ErrorCode::Internal, "direct convolution: layer " + std::to_string(layer.index) +
                                                 " is grouped or strided");
  }
  const size_t filters = static_cast<size_t>(output_.channels);
  const size_t perFilter = static_cast<size_t>(input_.channels) * static_cast<size_t>(size_ * size_);
  const size_t blocks = (filters + kFilterBlock - 1) / kFilterBlock;
  weights_.assign(blocks * perFilter * kFilterBlock, 0.f);
  for (size_t f = 0; f < filters; ++f) {
    float* dst = weights_.data() + (f / kFilterBlock) * perFilter * kFilterBlock + f % kFilterBlock;
    const float* src = params.weights.data() + f * perFilter;
    for (size_t k = 0; k < perFilter; ++k) dst[k * kFilterBlock] = src[k];
  }
}

size_t DirectConvolution::scratchFloats(int workers) const {
  const size_t paddedRows = static_cast<size_t>(input_.channels) * static_cast<size_t>(size_) * rowStride_;
  const size_t outputRows = 2 * static_cast<size_t>(output_.channels) * static_cast<size_t>(output_.width);
  return static_cast<size_t>(workers) * (paddedRows + outputRows);
}

// rows[(channel * size + ky) * rowStride + j] = input[channel][outputRow - padding + ky][j - padding], 0 outside.
void DirectConvolution::padRows(const float* input, int outputRow, float* rows) const {
  const size_t width = static_cast<size_t>(input_.width);
  const size_t left = static_cast<size_t>(padding_);
  for (int c = 0; c < input_.channels; ++c) {
    for (int ky = 0; ky < size_; ++ky) {
      float* row = rows + (static_cast<size_t>(c) * static_cast<size_t>(size_) + static_cast<size_t>(ky)) * rowStride_;
      const int iy = outputRow - padding_ + ky;
      if (iy < 0 || iy >= input_.height) {
        std::fill(row, row + rowStride_, 0.f);
        continue;
      }
      const float* src = input + static_cast<size_t>(c) * input_.plane() + static_cast<size_t>(iy) * width;
      const size_t copied = std::min(width, rowStride_ - left);
      std::fill(row, row + left, 0.f);
      std::memcpy(row + left, src, copied * sizeof(float));
      std::fill(row + left + copied, row + rowStride_, 0.f);
    }
  }
}

void DirectConvolution::computeRow(const float* rows, int outputRow, float* output, size_t planeStride) const {
  const size_t width = static_cast<size_t>(output_.width);
  const size_t filters = static_cast<size_t>(output_.channels);
  const size_t taps = static_cast<size_t>(input_.channels) * static_cast<size_t>(size_);
  const size_t blockWeights = taps * static_cast<size_t>(size_) * kFilterBlock;
  const size_t groupPixels = static_cast<size_t>(kRowVectors) * kVector;
  for (size_t first = 0; first < filters; first += kFilterBlock) {
    const float* w = weights_.data() + first / kFilterBlock * blockWeights;
    const float* bias = bias_.data() + first;  // padded to whole blocks
    for (size_t x0 = 0; x0 < width; x0 += groupPixels) {
      const size_t pixels = std::min(groupPixels, width - x0);
      float* dst[kFilterBlock];
      for (size_t f = 0; f < kFilterBlock; ++f) {
        dst[f] = first + f < filters ? output + (first + f) * planeStride + static_cast<size_t>(outputRow) * width + x0
                                     : nullptr;
      }
      const int vectors = static_cast<int>((pixels + kVector - 1) / kVector);
      registerBlockFor<kRowVectors>(vectors, rows + x0, rowStride_, taps, size_, w, bias, activation_, dst, pixels);
    }
  }
}

void DirectConvolution::run(const float* input, float* output, float* scratch, ThreadPool& pool) const {
  const size_t perWorker = scratchFloats(1);
  pool.parallelFor(static_cast<size_t>(output_.height), [&](size_t y, int worker) {
    float* rows = scratch + static_cast<size_t>(worker) * perWorker;
    padRows(input, static_cast<int>(y), rows);
    computeRow(rows, static_cast<int>(y), output, output_.plane());
  });
}

void DirectConvolution::runPooled(const float* input, float* pooled, float* scratch, ThreadPool& pool) const {
  if (output_.height % 2 != 0 || output_.width % 2 != 0) {
    throw DetectorError(ErrorCode::Internal, "direct convolution: a pooled run needs an even output, got " +
                                                 std::to_string(output_.height) + "x" + std::to_string(output_.width));
  }
  const size_t perWorker = scratchFloats(1);
  const size_t paddedRows = static_cast<size_t>(input_.channels) * static_cast<size_t>(size_) * rowStride_;
  const size_t width = static_cast<size_t>(output_.width);
  const size_t pooledWidth = width / 2;
  const size_t pooledPlane = pooledWidth * static_cast<size_t>(output_.height / 2);
  const size_t filters = static_cast<size_t>(output_.channels);
  pool.parallelFor(static_cast<size_t>(output_.height / 2), [&](size_t py, int worker) {
    float* rows = scratch + static_cast<size_t>(worker) * perWorker;
    float* pair = rows + paddedRows;  // [filter][2][width]
    for (int r = 0; r < 2; ++r) {
      padRows(input, static_cast<int>(2 * py) + r, rows);
      computeRow(rows, r, pair, 2 * width);
    }
    for (size_t f = 0; f < filters; ++f) {
      const float* top = pair + f * 2 * width;
      const float* bottom = top + width;
      maxPoolTwoByTwoRow(top, bottom, pooled + f * pooledPlane + py * pooledWidth, pooledWidth);
    }
  });
}

}  // namespace emofleet
