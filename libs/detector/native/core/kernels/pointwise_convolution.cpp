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
// Filters per work item of the GEMM + store stage, at least (the items are spread over the threads).
constexpr size_t kMinFilterBlock = 16;
// Kernel bytes per work item up to which the item runs in steps whose products stay in L2 until they are stored.
constexpr size_t kStepKernelBytes = size_t{256} << 10;
constexpr size_t kStepProductBytes = size_t{128} << 10;
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
  const size_t workers = static_cast<size_t>(pool.size());
  // Work items as in WinogradConvolution::run: filter blocks of whole weight panels, and column chunks of whole
  // input panels where the filter blocks alone give fewer than two items per thread.
  const size_t panels = ldm / kPanelFilters;
  const size_t filterBlocks = std::max<size_t>(1, std::min(workers * 2, filters_ / kMinFilterBlock));
  const size_t panelsPerBlock = (panels + filterBlocks - 1) / filterBlocks;
  const size_t blocks = (panels + panelsPerBlock - 1) / panelsPerBlock;
  const size_t chunksWanted = (workers * 2 + blocks - 1) / blocks;
  const size_t itemFilters = panelsPerBlock * kPanelFilters;
  const size_t itemKernelBytes = itemFilters * channels_ * sizeof(float);
  const size_t stepColumns =
      itemKernelBytes <= kStepKernelBytes
          ? roundUp(std::max<size_t>(1, kStepProductBytes / (itemFilters * sizeof(float))), kPanelColumns)
          : blockColumns_;
  float* packed = scratch;
  float* products = scratch + packedInputFloats(blockColumns_, channels_);
  for (size_t firstColumn = 0; firstColumn < pixels_; firstColumn += blockColumns_) {
    const size_t columns = std::min(blockColumns_, pixels_ - firstColumn);
    const size_t columnPanels = (columns + kPanelColumns - 1) / kPanelColumns;
    pool.parallelFor((columnPanels + kPackPanels - 1) / kPackPanels, [&](size_t item, int) {
      const size_t first = item * kPackPanels;
      packColumns(input, firstColumn, first, std::min(columnPanels, first + kPackPanels), columns, packed);
    });
    const size_t panelsPerChunk =
        (columnPanels + std::min(chunksWanted, columnPanels) - 1) / std::min(chunksWanted, columnPanels);
    const size_t chunks = (columnPanels + panelsPerChunk - 1) / panelsPerChunk;
    pool.parallelFor(blocks * chunks, [&](size_t item, int) {
      const size_t firstPanel = item / chunks * panelsPerBlock;
      const size_t count = std::min(panelsPerBlock, panels - firstPanel);
      const size_t chunkFirst = item % chunks * panelsPerChunk * kPanelColumns;
      const size_t chunkColumns = std::min(panelsPerChunk * kPanelColumns, columns - chunkFirst);
      const size_t firstFilter = firstPanel * kPanelFilters;
      const size_t lastFilter = std::min(filters_, (firstPanel + count) * kPanelFilters);
      for (size_t sub = chunkFirst; sub < chunkFirst + chunkColumns; sub += stepColumns) {
        const size_t n = std::min(stepColumns, chunkFirst + chunkColumns - sub);
        packedGemm(weights_, firstPanel, count, packed + sub * channels_, n, products + sub * ldm, ldm);
        storeTransposed(products + sub * ldm, firstColumn + sub, n, firstFilter, lastFilter, output);
      }
    });
  }
}

}  // namespace emofleet
