#include "pointwise_convolution.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "../detector_error.hpp"
#include "activation.hpp"

namespace emofleet {
namespace {

// The rule behind pointwiseConvolutionFor, from per-layer times (profile-network, 2 threads, interleaved runs;
// see the README's Benchmark section): against im2col + OpenBLAS, 1.35-1.5x on the 1x1 variant's 13x13 layers
// (512-1024 filters), 1.05-1.1x at 26x26 with 256-512 filters, even at 52x52, and slower on wider planes
// (0.75x at 104x104, where packing and transposing add memory traffic that OpenBLAS's in-place operand does
// not) and with few filters (0.7x for 512 -> 64 at 26x26, 0.8x for the 45-filter region layer): the packing of
// the input is paid once per layer, the multiplies it saves grow with the filters.
constexpr int kMinChannels = 64;
constexpr int kMinFilters = 128;
constexpr size_t kMaxPixels = 32 * 32;
// The packed input and the products of one block of pixels take about this many floats (a few MB, read back
// right after they are written, while still in the last-level cache).
constexpr size_t kBlockFloats = size_t{1} << 20;
// Input panels per work item of the packing stage.
constexpr size_t kPackPanels = 8;
// The transposing store handles kStoreFilters x kStoreColumns products at a time.
constexpr size_t kStoreFilters = 8;
constexpr size_t kStoreColumns = 16;
static_assert(kPanelFilters % kStoreFilters == 0, "the store takes whole weight panels");

}  // namespace

bool pointwiseConvolutionFor(const LayerSpec& layer) {
  if (layer.kind != LayerKind::Convolutional) return false;
  const ConvolutionParams& p = layer.convolution;
  return p.groups == 1 && p.size == 1 && p.stride == 1 && p.padding == 0 && layer.input.channels >= kMinChannels &&
         layer.output.channels >= kMinFilters && layer.output.plane() <= kMaxPixels;
}

PointwiseConvolution::PointwiseConvolution(const LayerSpec& layer, const LayerParameters& params, size_t blockColumns)
    : channels_(static_cast<size_t>(layer.input.channels)),
      filters_(static_cast<size_t>(layer.output.channels)),
      pixels_(layer.output.plane()),
      activation_(layer.convolution.activation),
      bias_(params.bias) {
  const ConvolutionParams& p = layer.convolution;
  if (p.groups != 1 || p.size != 1 || p.stride != 1 || p.padding != 0) {
    throw DetectorError(ErrorCode::BadArgument, "pointwise: layer " + std::to_string(layer.index) + " (cfg line " +
                                                    std::to_string(layer.cfgLine) +
                                                    ") is not a dense 1x1 stride-1 convolution without padding");
  }
  if (params.weights.size() != filters_ * channels_ || bias_.size() != filters_) {
    throw DetectorError(ErrorCode::BadArgument, "pointwise: layer " + std::to_string(layer.index) + " has " +
                                                    std::to_string(params.weights.size()) + " weights, expected " +
                                                    std::to_string(filters_ * channels_));
  }
  weights_ = PackedWeights(params.weights.data(), filters_, channels_, channels_);
  const size_t perColumn = channels_ + roundUp(filters_, kPanelFilters);
  const size_t budgetColumns = std::max(kPanelColumns, kBlockFloats / perColumn / kPanelColumns * kPanelColumns);
  blockColumns_ = std::min(pixels_, blockColumns > 0 ? roundUp(blockColumns, kPanelColumns) : budgetColumns);
}

size_t PointwiseConvolution::scratchFloats() const {
  return packedInputFloats(blockColumns_, channels_) + blockColumns_ * roundUp(filters_, kPanelFilters);
}

// Panels [firstPanel, lastPanel) of the block starting at output pixel `firstColumn` (`columns` pixels in the
// block), in packInput's layout, reading the input plane by plane so every row is read front to back.
void PointwiseConvolution::packColumns(const float* input, size_t firstColumn, size_t firstPanel, size_t lastPanel,
                                       size_t columns, float* packed) const {
  for (size_t k = 0; k < channels_; ++k) {
    const float* row = input + k * pixels_ + firstColumn;
    for (size_t panel = firstPanel; panel < lastPanel; ++panel) {
      const size_t first = panel * kPanelColumns;
      const size_t count = std::min(kPanelColumns, columns - first);
      float* dst = packed + first * channels_ + k * kPanelColumns;
      if (count == kPanelColumns) {
        std::memcpy(dst, row + first, kPanelColumns * sizeof(float));
      } else {
        size_t j = 0;
        for (; j < count; ++j) dst[j] = row[first + j];
        for (; j < kPanelColumns; ++j) dst[j] = 0.f;
      }
    }
  }
}

// output[filter][firstColumn + column] = activation(products[column][filter] + bias[filter]) for the filters
// [firstFilter, lastFilter) and `columns` columns; `products` rows are the padded filter count long.
void PointwiseConvolution::storeTransposed(const float* products, size_t firstColumn, size_t columns,
                                           size_t firstFilter, size_t lastFilter, float* output) const {
  const size_t ldm = roundUp(filters_, kPanelFilters);
  // Activated whole (one vector loop); columns past a partial group's count keep earlier, finite values.
  float block[kStoreFilters][kStoreColumns] = {};
  for (size_t f0 = firstFilter; f0 < lastFilter; f0 += kStoreFilters) {
    const size_t lanes = std::min(kStoreFilters, lastFilter - f0);
    float bias[kStoreFilters];
    for (size_t lane = 0; lane < kStoreFilters; ++lane) bias[lane] = lane < lanes ? bias_[f0 + lane] : 0.f;
    for (size_t c0 = 0; c0 < columns; c0 += kStoreColumns) {
      const size_t count = std::min(kStoreColumns, columns - c0);
      // The padded filters of a product row are zeros and within the row, so all kStoreFilters can be read.
      for (size_t c = 0; c < count; ++c) {
        const float* src = products + (c0 + c) * ldm + f0;
        for (size_t lane = 0; lane < kStoreFilters; ++lane) block[lane][c] = src[lane] + bias[lane];
      }
      activateInPlace(&block[0][0], kStoreFilters * kStoreColumns, activation_);
      for (size_t lane = 0; lane < lanes; ++lane) {
        std::memcpy(output + (f0 + lane) * pixels_ + firstColumn + c0, block[lane], count * sizeof(float));
      }
    }
  }
}

void PointwiseConvolution::run(const float* input, float* output, float* scratch, ThreadPool& pool) const {
  const size_t ldm = roundUp(filters_, kPanelFilters);
  // The GEMM + store items: per item, the products of each step are stored while in L2.
  const PackedGemmSplit split(filters_, channels_, 1, blockColumns_, pool.size());
  float* packed = scratch;
  float* products = scratch + packedInputFloats(blockColumns_, channels_);
  for (size_t firstColumn = 0; firstColumn < pixels_; firstColumn += blockColumns_) {
    const size_t columns = std::min(blockColumns_, pixels_ - firstColumn);
    const size_t columnPanels = (columns + kPanelColumns - 1) / kPanelColumns;
    pool.parallelFor((columnPanels + kPackPanels - 1) / kPackPanels, [&](size_t item, int) {
      const size_t first = item * kPackPanels;
      packColumns(input, firstColumn, first, std::min(columnPanels, first + kPackPanels), columns, packed);
    });
    pool.parallelFor(split.items(columns), [&](size_t index, int) {
      const PackedGemmSplit::Item item = split.item(index, columns);
      for (size_t sub = 0; sub < item.columns; sub += split.stepColumns()) {
        const size_t first = item.firstColumn + sub;  // whole panels: packInput's layout puts them in sequence
        const size_t n = std::min(split.stepColumns(), item.columns - sub);
        packedGemm(weights_, item.firstPanel, item.panels, packed + first * channels_, n, products + first * ldm, ldm);
        storeTransposed(products + first * ldm, firstColumn + first, n, item.firstFilter, item.lastFilter, output);
      }
    });
  }
}

}  // namespace emofleet
