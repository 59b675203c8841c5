// A small-N SGEMM whose weight operand is packed once at load (OpenBLAS re-packs both operands on every call,
// which dominates the deep 13x13 layers, where each call has only 49-169 columns).
//
// The product is computed transposed, in the layout the callers want anyway:
//   C^T [columns x filters] = X^T [columns x depth] * W^T [depth x filters]
// vectorised over filters (W^T packed in panels of kPanelFilters filters, k-major), with the columns (output
// pixels or Winograd tiles) broadcast from an operand packed in panels of kPanelColumns columns, k-major.
// GCC vector extensions, no intrinsics: AVX-512 / AVX2 / SSE on x86-64 and NEON on aarch64 from one source.
#pragma once

#include <cstddef>
#include <vector>

#include "../aligned_vector.hpp"

namespace emofleet {

#if defined(__AVX512F__)
constexpr int kGemmVectorFloats = 16;
#elif defined(__AVX__)
constexpr int kGemmVectorFloats = 8;
#else
constexpr int kGemmVectorFloats = 4;  // SSE, NEON, or the compiler's generic lowering
#endif

/** Filters per packed weight panel (two vectors). */
constexpr size_t kPanelFilters = 2 * static_cast<size_t>(kGemmVectorFloats);
/**
 * Columns per packed input panel, which is also the rows of one micro-kernel call: its accumulators (columns x
 * two vectors of filters), the two weight vectors and one broadcast must fit the vector registers. 32 of them on
 * AVX-512 and NEON: 8 x 2. 16 on AVX2 and SSE: 6 x 2, so 12 independent FMA chains keep two FMA units of 4-cycle
 * latency busy (4 x 2 left them a third idle). The Winograd input transform writes this layout directly.
 */
#if defined(__AVX512F__) || defined(__aarch64__)
constexpr size_t kPanelColumns = 8;
#else
constexpr size_t kPanelColumns = 6;
#endif

inline size_t roundUp(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

/** The weights W [filters x depth] (row stride `ld`), packed once: panels of kPanelFilters filters, zero padded. */
class PackedWeights {
 public:
  PackedWeights() = default;
  PackedWeights(const float* w, size_t filters, size_t depth, size_t ld);
  /** Packs from a strided source: element (f, k) at w[f * filterStride + k * depthStride]. */
  PackedWeights(const float* w, size_t filters, size_t depth, size_t filterStride, size_t depthStride);

  size_t filters() const { return filters_; }
  size_t paddedFilters() const { return roundUp(filters_, kPanelFilters); }
  size_t depth() const { return depth_; }
  const float* panel(size_t index) const { return data_.data() + index * kPanelFilters * depth_; }
  bool empty() const { return data_.empty(); }

 private:
  size_t filters_ = 0;
  size_t depth_ = 0;
  AlignedVector<float> data_;  // paddedFilters / kPanelFilters panels of depth x kPanelFilters
};

/** Floats of an input packed for `columns` columns of `depth` (panels of kPanelColumns, zero padded). */
inline size_t packedInputFloats(size_t columns, size_t depth) { return roundUp(columns, kPanelColumns) * depth; }

/** Packs X [depth x columns] (row stride `ld`) into panels of kPanelColumns columns, k-major, zero padded. */
void packInput(const float* x, size_t depth, size_t columns, size_t ld, float* packed);

/**
 * C^T[column][filter] = sum_k X[k][column] * W[filter][k] for filters [firstPanel, firstPanel + panels) *
 * kPanelFilters and all `columns` columns. `x` is packInput's layout; `c` has row stride `ldc` (>= the
 * padded filter count); the padded filters of the last panel are written too (with zeros from the padding).
 */
void packedGemm(const PackedWeights& w, size_t firstPanel, size_t panels, const float* x, size_t columns, float* c,
                size_t ldc);

/**
 * How the Winograd and pointwise layers split a stage of packedGemm calls, over one block of packed columns,
 * between `workers` threads. Items are filter blocks of whole weight panels (at most two per worker, none smaller
 * than 16 filters); where those alone give fewer than two items per worker (layers with few filters, such as
 * v2-tiny's 32-filter layer at 208x208), each block of columns is also cut into chunks of whole input panels, so
 * every thread has work. An item multiplies its chunk in steps of stepColumns(): where its kernels (`matrices`
 * [filters x depth] weight matrices, one per Winograd coordinate) stay in L2 across steps, steps whose products
 * also stay in L2 until the caller's epilogue reads them; otherwise (deep layers, whose kernels stream from
 * memory) one step per chunk, so they stream once. `maxColumns` is the largest block of columns.
 */
class PackedGemmSplit {
 public:
  struct Item {
    size_t firstPanel;   // weight panels [firstPanel, firstPanel + panels)
    size_t panels;
    size_t firstFilter;  // the filters they hold: [firstFilter, lastFilter)
    size_t lastFilter;
    size_t firstColumn;  // columns [firstColumn, firstColumn + columns) of the block, a whole number of input panels
    size_t columns;
  };

  PackedGemmSplit(size_t filters, size_t depth, size_t matrices, size_t maxColumns, int workers);

  /** Work items for a block of `columns` columns. */
  size_t items(size_t columns) const;
  Item item(size_t index, size_t columns) const;
  size_t stepColumns() const { return stepColumns_; }

 private:
  size_t panelsPerChunk(size_t columns) const;

  size_t filters_;
  size_t panels_;
  size_t panelsPerBlock_;
  size_t blocks_;
  size_t chunksWanted_;
  size_t stepColumns_;
};

}  // namespace emofleet
