#include "winograd_convolution.hpp"

#include <algorithm>
#include <string>

#include "../detector_error.hpp"
#include "activation.hpp"
#include "packed_gemm.hpp"

namespace emofleet {
namespace {

// The transformed input and the SGEMM products of one block of tiles take about this many floats (a few MB:
// the block is read back right after it is written, while still in the last-level cache).
constexpr size_t kBlockFloats = size_t{1} << 20;
// Fewer columns than this per block and the per-block transforms and thread hand-offs dominate.
constexpr size_t kMinBlockTiles = 64;
// The per-layer rule (winogradTileFor), from per-layer CPU-time measurements (tools/profile_winograd.cpp, see
// docs/benchmarks.md). Since the element-wise stage runs on kernels packed once at load (packedGemm), Winograd
// beats im2col + OpenBLAS from 16 input channels up: F(4x4,3x3) from 24x24 output pixels up (1.8-2.4x), below
// that F(2x2,3x3) (1.3-1.9x at 13x13, where a 6x6 tile wastes a third of its area on padding). The first layer
// (3 channels) stays on im2col: there the tile transforms cost more than the multiplies saved.
constexpr int kMinChannels = 16;
constexpr int kMinFilters = 32;
constexpr size_t kMinF4Pixels = 24 * 24;
// Input channels per work item of the input transform (see run()).
constexpr size_t kChannelGroup = 8;

/*
 * The transforms (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks"), written out so the zero
 * and unit coefficients cost nothing. 1-D forms; each 2-D transform applies them to columns, then rows.
 *   F(2,3): B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1]
 *   F(4,3): points 0, +-1, +-2, infinity.
 */
template <int M>
struct Transforms;

template <>
struct Transforms<2> {
  static constexpr int kAlpha = 4;
  static inline void input(const float* d, size_t s, float* r, size_t rs) {
    const float d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s];
    r[0] = d0 - d2;
    r[rs] = d1 + d2;
    r[2 * rs] = d2 - d1;
    r[3 * rs] = d1 - d3;
  }
  static inline void output(const float* m, size_t s, float* r, size_t rs) {
    const float m0 = m[0], m1 = m[s], m2 = m[2 * s], m3 = m[3 * s];
    r[0] = m0 + m1 + m2;
    r[rs] = m1 - m2 - m3;
  }
  // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
  static inline void kernel(const float* g, size_t s, float* r, size_t rs) {
    const float g0 = g[0], g1 = g[s], g2 = g[2 * s];
    r[0] = g0;
    r[rs] = .5f * (g0 + g1 + g2);
    r[2 * rs] = .5f * (g0 - g1 + g2);
    r[3 * rs] = g2;
  }
};

template <>
struct Transforms<4> {
  static constexpr int kAlpha = 6;
  static inline void input(const float* d, size_t s, float* r, size_t rs) {
    const float d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];
    const float a = d4 - 4.f * d2;  // shared by rows 1 and 2
    const float b = d3 - 4.f * d1;
    const float c = d4 - d2;        // shared by rows 3 and 4
    const float e = 2.f * (d3 - d1);
    r[0] = 4.f * d0 - 5.f * d2 + d4;
    r[rs] = a + b;
    r[2 * rs] = a - b;
    r[3 * rs] = c + e;
    r[4 * rs] = c - e;
    r[5 * rs] = 4.f * d1 - 5.f * d3 + d5;
  }
  static inline void output(const float* m, size_t s, float* r, size_t rs) {
    const float m0 = m[0], m1 = m[s], m2 = m[2 * s], m3 = m[3 * s], m4 = m[4 * s], m5 = m[5 * s];
    const float p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;
    r[0] = m0 + p12 + p34;
    r[rs] = d12 + 2.f * d34;
    r[2 * rs] = p12 + 4.f * p34;
    r[3 * rs] = d12 + 8.f * d34 + m5;
  }
  // G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
  static inline void kernel(const float* g, size_t s, float* r, size_t rs) {
    const float g0 = g[0], g1 = g[s], g2 = g[2 * s];
    const float a = -(g0 + g2) / 6.f, b = g1 / 6.f;
    const float c = g0 / 24.f + g2 / 6.f, d = g1 / 12.f;
    r[0] = g0 / 4.f;
    r[rs] = a - b;
    r[2 * rs] = a + b;
    r[3 * rs] = c + d;
    r[4 * rs] = c - d;
    r[5 * rs] = g2;
  }
};

// Row `row` of U = G g G^T for one 3x3 kernel (coordinates row * alpha .. row * alpha + alpha - 1), written with
// stride `stride` per coordinate.
template <int M>
void transformKernelRow(const float* g, int row, float* u, size_t stride) {
  constexpr int A = Transforms<M>::kAlpha;
  float t[A * 3];
  float r[A];
  for (int x = 0; x < 3; ++x) Transforms<M>::kernel(g + x, 3, t + x, 3);  // columns: G g
  Transforms<M>::kernel(t + row * 3, 1, r, 1);                              // one row of (G g) G^T
  for (int x = 0; x < A; ++x) u[static_cast<size_t>(x) * stride] = r[x];
}

}  // namespace

bool winogradApplies(const LayerSpec& layer) {
  if (layer.kind != LayerKind::Convolutional) return false;
  const ConvolutionParams& p = layer.convolution;
  return p.groups == 1 && p.size == 3 && p.stride == 1 && layer.output.height >= 2 && layer.output.width >= 2;
}

int winogradTileFor(const LayerSpec& layer, WinogradMode mode) {
  if (mode == WinogradMode::Off || !winogradApplies(layer)) return 0;
  if (mode == WinogradMode::F2) return 2;
  if (mode == WinogradMode::F4) return 4;
  const int channels = layer.input.channels;
  if (channels < kMinChannels || layer.output.channels < kMinFilters) return 0;
  return layer.output.plane() >= kMinF4Pixels ? 4 : 2;
}

WinogradConvolution::WinogradConvolution(const LayerSpec& layer, const LayerParameters& params, int tile,
                                         ThreadPool* pool, size_t blockTiles)
    : input_(layer.input),
      output_(layer.output),
      padding_(layer.convolution.padding),
      activation_(layer.convolution.activation),
      tile_(tile),
      alpha_(tile + 2),
      bias_(params.bias) {
  if (!winogradApplies(layer) || (tile != 2 && tile != 4)) {
    throw DetectorError(ErrorCode::BadArgument, "winograd: layer " + std::to_string(layer.index) + " (cfg line " +
                                                    std::to_string(layer.cfgLine) +
                                                    ") is not a dense 3x3 stride-1 convolution or the tile " +
                                                    std::to_string(tile) + " is not 2 or 4");
  }
  const size_t filters = static_cast<size_t>(output_.channels);
  const size_t channels = static_cast<size_t>(input_.channels);
  if (params.weights.size() != filters * channels * 9 || bias_.size() != filters) {
    throw DetectorError(ErrorCode::BadArgument, "winograd: layer " + std::to_string(layer.index) +
                                                    " has " + std::to_string(params.weights.size()) +
                                                    " weights, expected " + std::to_string(filters * channels * 9));
  }
  tilesX_ = (static_cast<size_t>(output_.width) + static_cast<size_t>(tile_) - 1) / static_cast<size_t>(tile_);
  tilesY_ = (static_cast<size_t>(output_.height) + static_cast<size_t>(tile_) - 1) / static_cast<size_t>(tile_);
  const size_t coordinates = static_cast<size_t>(alpha_ * alpha_);
  const size_t perTile = coordinates * (channels + filters);
  const size_t tiles = tilesX_ * tilesY_;
  blockTiles_ = blockTiles > 0 ? std::min(tiles, blockTiles)
                               : std::min(tiles, std::max(kMinBlockTiles, kBlockFloats / perTile / 16 * 16));
  // Transformed one row of coordinates at a time (alpha of them), then packed once per coordinate into
  // packedGemm's panel layout (OpenBLAS would re-pack on every call): the unpacked copy never holds more than
  // alpha of the alpha^2 coordinate matrices, which keeps the load's peak memory near the packed kernels' own.
  const size_t stride = filters * channels;
  const size_t rowCoordinates = static_cast<size_t>(alpha_);
  std::vector<float> transformed(rowCoordinates * stride);
  kernels_.resize(coordinates);
  for (int row = 0; row < alpha_; ++row) {
    const auto transformFilter = [&](size_t f, int) {
      for (size_t c = 0; c < channels; ++c) {
        const float* g = params.weights.data() + (f * channels + c) * 9;
        float* u = transformed.data() + f * channels + c;
        if (tile_ == 2) {
          transformKernelRow<2>(g, row, u, stride);
        } else {
          transformKernelRow<4>(g, row, u, stride);
        }
      }
    };
    const auto packCoordinate = [&](size_t x, int) {
      kernels_[static_cast<size_t>(row) * rowCoordinates + x] =
          PackedWeights(transformed.data() + x * stride, filters, channels, channels);
    };
    if (pool != nullptr) {
      pool->parallelFor(filters, transformFilter);
      pool->parallelFor(rowCoordinates, packCoordinate);
    } else {
      for (size_t f = 0; f < filters; ++f) transformFilter(f, 0);
      for (size_t x = 0; x < rowCoordinates; ++x) packCoordinate(x, 0);
    }
  }
}

size_t WinogradConvolution::scratchFloats() const {
  const size_t coordinates = static_cast<size_t>(alpha_ * alpha_);
  return coordinates * (packedInputFloats(blockTiles_, static_cast<size_t>(input_.channels)) +
                        blockTiles_ * roundUp(static_cast<size_t>(output_.channels), kPanelFilters));
}

// Tiles (input transform) and filters (output transform) are transformed kLanes at a time: every value of a
// transform is an array over kLanes tiles or filters, so the arithmetic is element-wise over lanes and the
// compiler vectorises it (SSE/AVX/NEON) without intrinsics.
constexpr int kLanes = 8;
static_assert(kPanelFilters % static_cast<size_t>(kLanes) == 0, "the output transform takes whole weight panels");

// V[xi] for the tiles [firstTile, firstTile + tiles) of one input channel, in packInput's layout: per
// coordinate, panels of kPanelColumns tiles, each [channel][tile] (the padding tiles of the last panel get zeros).
template <int M>
void WinogradConvolution::transformInput(const float* input, size_t firstTile, size_t tiles, size_t channel,
                                         float* v) const {
  constexpr int A = Transforms<M>::kAlpha;
  const size_t channels = static_cast<size_t>(input_.channels);
  const size_t coordinateStride = packedInputFloats(tiles, channels);
  const int height = input_.height;
  const int width = input_.width;
  const float* plane = input + channel * input_.plane();
  const size_t paddedTiles = roundUp(tiles, kPanelColumns);
  float d[A * A][kLanes];
  float t[A * A][kLanes];
  float r[A * A][kLanes];
  for (size_t j = 0; j < paddedTiles; j += kLanes) {
    const int lanes = j < tiles ? static_cast<int>(std::min<size_t>(kLanes, tiles - j)) : 0;
    for (int lane = 0; lane < kLanes; ++lane) {
      if (lane >= lanes) {
        for (int xy = 0; xy < A * A; ++xy) d[xy][lane] = 0.f;
        continue;
      }
      const size_t index = firstTile + j + static_cast<size_t>(lane);
      const int y0 = static_cast<int>(index / tilesX_) * M - padding_;
      const int x0 = static_cast<int>(index % tilesX_) * M - padding_;
      if (y0 >= 0 && x0 >= 0 && y0 + A <= height && x0 + A <= width) {
        const float* src = plane + static_cast<size_t>(y0) * static_cast<size_t>(width) + static_cast<size_t>(x0);
        for (int y = 0; y < A; ++y) {
          for (int x = 0; x < A; ++x) d[y * A + x][lane] = src[static_cast<size_t>(y) * static_cast<size_t>(width) + x];
        }
      } else {
        for (int y = 0; y < A; ++y) {
          const int iy = y0 + y;
          for (int x = 0; x < A; ++x) {
            const int ix = x0 + x;
            d[y * A + x][lane] =
                iy >= 0 && iy < height && ix >= 0 && ix < width
                    ? plane[static_cast<size_t>(iy) * static_cast<size_t>(width) + static_cast<size_t>(ix)]
                    : 0.f;
          }
        }
      }
    }
    // columns: B^T d, then rows: (B^T d) B
    for (int x = 0; x < A; ++x) {
      for (int lane = 0; lane < kLanes; ++lane) Transforms<M>::input(&d[x][lane], A * kLanes, &t[x][lane], A * kLanes);
    }
    for (int y = 0; y < A; ++y) {
      for (int lane = 0; lane < kLanes; ++lane) {
        Transforms<M>::input(&t[y * A][lane], kLanes, &r[y * A][lane], kLanes);
      }
    }
    // Lanes past `tiles` hold zeros (transforms of zeros): they fill the last panel's padding.
    const int written = static_cast<int>(std::min<size_t>(kLanes, paddedTiles - j));
    size_t offset[kLanes];
    for (int lane = 0; lane < written; ++lane) {
      const size_t tile = j + static_cast<size_t>(lane);
      offset[lane] = tile / kPanelColumns * kPanelColumns * channels + channel * kPanelColumns + tile % kPanelColumns;
    }
    for (int xi = 0; xi < A * A; ++xi) {
      float* dst = v + static_cast<size_t>(xi) * coordinateStride;
      for (int lane = 0; lane < written; ++lane) dst[offset[lane]] = r[xi][lane];
    }
  }
}

// Y = A^T M A for the tiles [firstTile, firstTile + tiles) of kLanes filters [firstFilter, ...) (one lane per
// filter), + bias, activation, clipped to the output plane. M[xi] starts at m + xi * coordinateStride and is
// [tile][filter] with row length = the padded filter count; m points at the first of these tiles.
template <int M>
void WinogradConvolution::transformOutput(const float* m, size_t coordinateStride, size_t firstTile, size_t tiles,
                                          size_t firstFilter, float* output) const {
  constexpr int A = Transforms<M>::kAlpha;
  const size_t filters = static_cast<size_t>(output_.channels);
  const size_t ldm = roundUp(filters, kPanelFilters);
  const int lanes = static_cast<int>(std::min<size_t>(kLanes, filters - firstFilter));
  float bias[kLanes];
  for (int lane = 0; lane < kLanes; ++lane) bias[lane] = lane < lanes ? bias_[firstFilter + static_cast<size_t>(lane)] : 0.f;
  const int height = output_.height;
  const int width = output_.width;
  float gathered[A * A][kLanes];
  float t[M * A][kLanes];
  float y[M * M][kLanes];
  for (size_t j = 0; j < tiles; ++j) {
    const float* src = m + j * ldm + firstFilter;
    for (int xi = 0; xi < A * A; ++xi) {
      // The padded filters of M are zeros and within its rows, so all kLanes lanes can be read.
      for (int lane = 0; lane < kLanes; ++lane) gathered[xi][lane] = src[static_cast<size_t>(xi) * coordinateStride + lane];
    }
    for (int x = 0; x < A; ++x) {  // A^T M
      for (int lane = 0; lane < kLanes; ++lane) {
        Transforms<M>::output(&gathered[x][lane], A * kLanes, &t[x][lane], A * kLanes);
      }
    }
    for (int r = 0; r < M; ++r) {  // (A^T M) A
      for (int lane = 0; lane < kLanes; ++lane) Transforms<M>::output(&t[r * A][lane], kLanes, &y[r * M][lane], kLanes);
    }
    for (int xy = 0; xy < M * M; ++xy) {
      for (int lane = 0; lane < kLanes; ++lane) y[xy][lane] += bias[lane];
    }
    activateInPlace(&y[0][0], static_cast<size_t>(M * M * kLanes), activation_);
    const size_t index = firstTile + j;
    const int y0 = static_cast<int>(index / tilesX_) * M;
    const int x0 = static_cast<int>(index % tilesX_) * M;
    const int rows = std::min(M, height - y0);
    const int columns = std::min(M, width - x0);
    for (int lane = 0; lane < lanes; ++lane) {
      float* plane = output + (firstFilter + static_cast<size_t>(lane)) * output_.plane();
      for (int r = 0; r < rows; ++r) {
        float* dst = plane + static_cast<size_t>(y0 + r) * static_cast<size_t>(width) + static_cast<size_t>(x0);
        for (int c = 0; c < columns; ++c) dst[c] = y[r * M + c][lane];
      }
    }
  }
}

void WinogradConvolution::run(const float* input, float* output, float* scratch, ThreadPool& pool) const {
  const size_t channels = static_cast<size_t>(input_.channels);
  const size_t filters = static_cast<size_t>(output_.channels);
  const size_t ldm = roundUp(filters, kPanelFilters);
  const size_t coordinates = static_cast<size_t>(alpha_ * alpha_);
  const size_t totalTiles = tilesX_ * tilesY_;
  // The GEMM + output-transform items: per item, the products of each step are transformed while in L2.
  const PackedGemmSplit split(filters, channels, coordinates, totalTiles, pool.size());
  for (size_t firstTile = 0; firstTile < totalTiles; firstTile += blockTiles_) {
    const size_t tiles = std::min(blockTiles_, totalTiles - firstTile);
    const size_t vStride = packedInputFloats(tiles, channels);
    const size_t mStride = ldm * tiles;
    float* v = scratch;
    float* m = scratch + coordinates * vStride;
    // Channels in groups: neighbouring channels' tiles share cache lines in V (kPanelColumns floats each), so
    // one channel per item would have the threads writing the same lines (false sharing).
    const size_t channelGroups = (channels + kChannelGroup - 1) / kChannelGroup;
    pool.parallelFor(channelGroups, [&](size_t group, int) {
      const size_t end = std::min(channels, (group + 1) * kChannelGroup);
      for (size_t c = group * kChannelGroup; c < end; ++c) {
        if (tile_ == 2) {
          transformInput<2>(input, firstTile, tiles, c, v);
        } else {
          transformInput<4>(input, firstTile, tiles, c, v);
        }
      }
    });
    pool.parallelFor(split.items(tiles), [&](size_t index, int) {
      const PackedGemmSplit::Item item = split.item(index, tiles);
      const size_t chunkFirst = item.firstColumn;
      const float* chunkV = v + chunkFirst * channels;  // whole panels: packInput's layout puts them in sequence
      float* chunkM = m + chunkFirst * ldm;
      for (size_t sub = 0; sub < item.columns; sub += split.stepColumns()) {
        const size_t n = std::min(split.stepColumns(), item.columns - sub);
        for (size_t xi = 0; xi < coordinates; ++xi) {
          packedGemm(kernels_[xi], item.firstPanel, item.panels, chunkV + sub * channels + xi * vStride, n,
                     chunkM + sub * ldm + xi * mStride, ldm);
        }
        for (size_t f = item.firstFilter; f < item.lastFilter; f += static_cast<size_t>(kLanes)) {
          if (tile_ == 2) {
            transformOutput<2>(chunkM + sub * ldm, mStride, firstTile + chunkFirst + sub, n, f, output);
          } else {
            transformOutput<4>(chunkM + sub * ldm, mStride, firstTile + chunkFirst + sub, n, f, output);
          }
        }
      }
    });
  }
}

}  // namespace emofleet
