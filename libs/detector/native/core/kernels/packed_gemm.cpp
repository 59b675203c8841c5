#include "packed_gemm.hpp"
#include "vector_ops.hpp"

#include <algorithm>
#include <cstring>

namespace emofleet {
namespace {

using namespace vector_ops;

// Depth per pass over the filter panel: the panel's slice (kDepthBlock x kPanelFilters) stays in L1/L2 while
// it meets every column panel, and the column panels' slices stay in L2 across filter panels.
constexpr size_t kDepthBlock = 256;
constexpr size_t kPrefetchFloats = kDepthBlock * kPanelFilters;

// PackedGemmSplit: filters per work item, at least; the kernel bytes per item up to which it runs in L2-sized
// steps, and the products per step.
constexpr size_t kMinFilterBlock = 16;
constexpr size_t kStepKernelBytes = size_t{256} << 10;
constexpr size_t kStepProductBytes = size_t{128} << 10;

// c[r][0 .. kPanelFilters) (+)= sum over kc of x[k][r] * w[k][...]: R rows, two vectors of filters per row.
template <int R, bool Prefetch>
inline void microKernel(size_t kc, const float* x, const float* w, float* c, size_t ldc, bool accumulate) {
  Vec acc0[R];
  Vec acc1[R];
  for (int r = 0; r < R; ++r) {
    if (accumulate) {
      acc0[r] = load(c + static_cast<size_t>(r) * ldc);
      acc1[r] = load(c + static_cast<size_t>(r) * ldc + kGemmVectorFloats);
    } else {
      acc0[r] = Vec{};
      acc1[r] = Vec{};
    }
  }
  for (size_t k = 0; k < kc; ++k) {
    if (Prefetch) {
      __builtin_prefetch(w + kPrefetchFloats);
      __builtin_prefetch(w + kPrefetchFloats + 16);
    }
    const Vec w0 = load(w);
    const Vec w1 = load(w + kGemmVectorFloats);
    for (int r = 0; r < R; ++r) {
      const Vec xv = broadcast(x[r]);
      acc0[r] += xv * w0;
      acc1[r] += xv * w1;
    }
    x += kPanelColumns;
    w += kPanelFilters;
  }
  for (int r = 0; r < R; ++r) {
    store(c + static_cast<size_t>(r) * ldc, acc0[r]);
    store(c + static_cast<size_t>(r) * ldc + kGemmVectorFloats, acc1[r]);
  }
}

// One column panel (rows <= kPanelColumns) against one filter panel, with the micro-kernel for exactly `rows`.
template <int R, bool Prefetch>
inline void panelKernel(int rows, size_t kc, const float* x, const float* w, float* c, size_t ldc, bool accumulate) {
  if (rows == R) {
    microKernel<R, Prefetch>(kc, x, w, c, ldc, accumulate);
  } else if (R > 1) {
    panelKernel<(R > 1 ? R - 1 : 1), Prefetch>(rows, kc, x, w, c, ldc, accumulate);
  }
}

}  // namespace

PackedWeights::PackedWeights(const float* w, size_t filters, size_t depth, size_t ld)
    : PackedWeights(w, filters, depth, ld, 1) {}

PackedWeights::PackedWeights(const float* w, size_t filters, size_t depth, size_t filterStride, size_t depthStride)
    : filters_(filters), depth_(depth), data_(roundUp(filters, kPanelFilters) * depth, 0.f) {
  for (size_t f = 0; f < filters; ++f) {
    float* dst = data_.data() + (f / kPanelFilters) * kPanelFilters * depth + f % kPanelFilters;
    const float* src = w + f * filterStride;
    for (size_t k = 0; k < depth; ++k) dst[k * kPanelFilters] = src[k * depthStride];
  }
}

void packInput(const float* x, size_t depth, size_t columns, size_t ld, float* packed) {
  for (size_t first = 0; first < columns; first += kPanelColumns) {
    const size_t count = std::min(kPanelColumns, columns - first);
    float* panel = packed + first * depth;
    for (size_t k = 0; k < depth; ++k) {
      const float* src = x + k * ld + first;
      float* dst = panel + k * kPanelColumns;
      size_t j = 0;
      for (; j < count; ++j) dst[j] = src[j];
      for (; j < kPanelColumns; ++j) dst[j] = 0.f;
    }
  }
}

void packedGemm(const PackedWeights& w, size_t firstPanel, size_t panels, const float* x, size_t columns, float* c,
                size_t ldc) {
  const size_t depth = w.depth();
  for (size_t p = firstPanel; p < firstPanel + panels; ++p) {
    const float* weights = w.panel(p);
    for (size_t k0 = 0; k0 < depth; k0 += kDepthBlock) {
      const size_t kc = std::min(kDepthBlock, depth - k0);
      for (size_t first = 0; first < columns; first += kPanelColumns) {
        const int rows = static_cast<int>(std::min(kPanelColumns, columns - first));
        const float* xs = x + first * depth + k0 * kPanelColumns;
        const float* ws = weights + k0 * kPanelFilters;
        float* cs = c + first * ldc + p * kPanelFilters;
        if (first == 0) {
          panelKernel<static_cast<int>(kPanelColumns), true>(rows, kc, xs, ws, cs, ldc, k0 > 0);
        } else {
          panelKernel<static_cast<int>(kPanelColumns), false>(rows, kc, xs, ws, cs, ldc, k0 > 0);
        }
      }
    }
  }
}

PackedGemmSplit::PackedGemmSplit(size_t filters, size_t depth, size_t matrices, size_t maxColumns, int workers)
    : filters_(filters), panels_(roundUp(filters, kPanelFilters) / kPanelFilters) {
  const size_t threads = static_cast<size_t>(workers);
  const size_t filterBlocks = std::max<size_t>(1, std::min(threads * 2, filters / kMinFilterBlock));
  panelsPerBlock_ = (panels_ + filterBlocks - 1) / filterBlocks;
  blocks_ = (panels_ + panelsPerBlock_ - 1) / panelsPerBlock_;
  chunksWanted_ = (threads * 2 + blocks_ - 1) / blocks_;
  const size_t itemFilters = panelsPerBlock_ * kPanelFilters;
  const size_t itemKernelBytes = matrices * itemFilters * depth * sizeof(float);
  stepColumns_ = itemKernelBytes <= kStepKernelBytes
                     ? roundUp(std::max<size_t>(1, kStepProductBytes / (matrices * itemFilters * sizeof(float))),
                               kPanelColumns)
                     : maxColumns;
}

size_t PackedGemmSplit::panelsPerChunk(size_t columns) const {
  const size_t columnPanels = (columns + kPanelColumns - 1) / kPanelColumns;
  const size_t chunks = std::min(chunksWanted_, columnPanels);
  return (columnPanels + chunks - 1) / chunks;
}

size_t PackedGemmSplit::items(size_t columns) const {
  const size_t columnPanels = (columns + kPanelColumns - 1) / kPanelColumns;
  const size_t perChunk = panelsPerChunk(columns);
  return blocks_ * ((columnPanels + perChunk - 1) / perChunk);
}

PackedGemmSplit::Item PackedGemmSplit::item(size_t index, size_t columns) const {
  const size_t perChunk = panelsPerChunk(columns);
  const size_t chunks = items(columns) / blocks_;
  Item item{};
  item.firstPanel = index / chunks * panelsPerBlock_;
  item.panels = std::min(panelsPerBlock_, panels_ - item.firstPanel);
  item.firstFilter = item.firstPanel * kPanelFilters;
  item.lastFilter = std::min(filters_, (item.firstPanel + item.panels) * kPanelFilters);
  item.firstColumn = index % chunks * perChunk * kPanelColumns;
  item.columns = std::min(perChunk * kPanelColumns, columns - item.firstColumn);
  return item;
}

}  // namespace emofleet
