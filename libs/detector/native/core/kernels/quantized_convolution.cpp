#include "quantized_convolution.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "../detector_error.hpp"

namespace emofleet {
namespace {

// A packed panel of about this many bytes stays in L2 while every row block of the weights passes over it.
constexpr size_t kPanelBytes = 256 * 1024;
constexpr size_t kMaxPanelColumns = 64 * kInt8TileColumns;

[[noreturn]] void refuse(const LayerSpec& layer, const std::string& why) {
  throw DetectorError(ErrorCode::BadArgument, "quantization: layer " + std::to_string(layer.index) + " (cfg line " +
                                                  std::to_string(layer.cfgLine) + "): " + why);
}

}  // namespace

std::vector<int> int8CapableLayers(const NetworkSpec& spec, size_t executed) {
  std::vector<int> layers;
  for (size_t i = 0; i < executed && i < spec.layers.size(); ++i) {
    const LayerSpec& layer = spec.layers[i];
    if (layer.kind == LayerKind::Convolutional && layer.convolution.groups == 1) layers.push_back(static_cast<int>(i));
  }
  return layers;
}

QuantizedConvolution::QuantizedConvolution(const LayerSpec& layer, const LayerParameters& params,
                                           const Int8LayerChoice& choice, Int8Kernel kernel)
    : activation_(layer.convolution.activation), choice_(choice), kernel_(kernel), epilogue_(kernel) {
  if (layer.kind != LayerKind::Convolutional) refuse(layer, std::string("is ") + layerKindName(layer.kind) + ", only convolutional layers run in int8");
  const ConvolutionParams& p = layer.convolution;
  if (p.groups != 1) refuse(layer, "grouped/depthwise convolutions (groups=" + std::to_string(p.groups) + ") stay fp32");
  if (!(std::isfinite(choice.inputScale) && choice.inputScale > 0)) refuse(layer, "input scale must be a positive finite number");
  if (choice.inputZeroPoint < 0 || choice.inputZeroPoint > 255) refuse(layer, "input zero point must be 0..255");
  if (!int8KernelAvailable(kernel)) refuse(layer, std::string("this CPU cannot run the ") + int8KernelName(kernel) + " kernel");
  geometry_ = Geometry{layer.input, layer.output, p.size, p.stride, p.padding};
  const int rows = p.filters;
  const int depth = layer.input.channels * p.size * p.size;
  // |sum| <= depth * 255 * 127 must fit int32.
  if (static_cast<double>(depth) * 255.0 * 127.0 > static_cast<double>(std::numeric_limits<int32_t>::max())) {
    refuse(layer, "depth " + std::to_string(depth) + " could overflow int32 sums");
  }
  if (params.weights.size() != static_cast<size_t>(rows) * static_cast<size_t>(depth) || params.bias.size() != static_cast<size_t>(rows)) {
    refuse(layer, "its fp32 weights are not loaded");
  }
  std::vector<int8_t> quantized(static_cast<size_t>(rows) * static_cast<size_t>(depth));
  weightScales_.resize(static_cast<size_t>(rows));
  outputScales_.resize(static_cast<size_t>(rows));
  zeroPointTerms_.resize(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    const float* w = params.weights.data() + static_cast<size_t>(r) * static_cast<size_t>(depth);
    float largest = 0;
    for (int k = 0; k < depth; ++k) largest = std::max(largest, std::fabs(w[k]));
    const float scale = largest > 0 ? largest / 127.f : 1.f;
    int32_t sum = 0;
    for (int k = 0; k < depth; ++k) {
      const float q = std::nearbyint(w[k] / scale);
      const int8_t value = static_cast<int8_t>(std::max(-127.f, std::min(127.f, q)));
      quantized[static_cast<size_t>(r) * static_cast<size_t>(depth) + static_cast<size_t>(k)] = value;
      sum += value;
    }
    weightScales_[static_cast<size_t>(r)] = scale;
    outputScales_[static_cast<size_t>(r)] = choice.inputScale * scale;
    zeroPointTerms_[static_cast<size_t>(r)] = choice.inputZeroPoint * sum;
  }
  weights_ = packInt8Weights(quantized.data(), rows, depth, kernel);
  bias_ = params.bias;
  zeroRow_.assign(static_cast<size_t>(kInt8TileColumns) * static_cast<size_t>(p.stride), static_cast<uint8_t>(choice.inputZeroPoint));
}

size_t QuantizedConvolution::panelColumns() const {
  const size_t byBytes = kPanelBytes / static_cast<size_t>(weights_.paddedDepth);
  const size_t columns = std::max<size_t>(kInt8TileColumns, byBytes / kInt8TileColumns * kInt8TileColumns);
  return std::min(std::min(columns, kMaxPanelColumns), roundUpTo(geometry_.output.plane(), kInt8TileColumns));
}

// Few panels (deep, low-resolution layers): pack the whole layer once and split the output channels between
// the workers instead, so no worker re-packs what another already did.
bool QuantizedConvolution::packsWholeLayer(int workers) const {
  const size_t panels = (geometry_.output.plane() + panelColumns() - 1) / panelColumns();
  return panels < static_cast<size_t>(workers) * 2;
}

size_t QuantizedConvolution::paddedInputBytes() const {
  const size_t padding = static_cast<size_t>(geometry_.padding);
  return static_cast<size_t>(geometry_.input.channels) * (static_cast<size_t>(geometry_.input.height) + 2 * padding) *
         (static_cast<size_t>(geometry_.input.width) + 2 * padding);
}

size_t QuantizedConvolution::scratchBytes(int workers) const {
  const size_t depth = static_cast<size_t>(weights_.paddedDepth);
  const size_t panel = panelColumns();
  const size_t panels = packsWholeLayer(workers) ? depth * roundUpTo(geometry_.output.plane(), kInt8TileColumns)
                                                 : static_cast<size_t>(workers) * depth * panel;
  return roundUpTo(paddedInputBytes(), 64) + panels;
}

// The input as uint8 planes with a border of `padding` zero points (real 0) on every side, so packing reads
// every tap's row of pixels as one run of bytes, without bounds checks. Float input is quantised on the way;
// uint8 input without padding is used where it is.
const uint8_t* QuantizedConvolution::padInput(const Int8Input& input, uint8_t* padded, ThreadPool& pool) const {
  const size_t width = static_cast<size_t>(geometry_.input.width);
  const size_t height = static_cast<size_t>(geometry_.input.height);
  const size_t padding = static_cast<size_t>(geometry_.padding);
  if (input.bytes != nullptr && padding == 0) return input.bytes;
  const ByteQuantization quantization{1.f / choice_.inputScale, static_cast<float>(choice_.inputZeroPoint)};
  const uint8_t zeroByte = static_cast<uint8_t>(choice_.inputZeroPoint);
  const size_t paddedWidth = width + 2 * padding;
  const size_t paddedPlane = paddedWidth * (height + 2 * padding);
  pool.parallelFor(static_cast<size_t>(geometry_.input.channels), [&](size_t c, int) {
    uint8_t* dst = padded + c * paddedPlane;
    const size_t plane = width * height;
    if (padding == 0) {
      epilogue_.quantize(input.floats + c * plane, plane, quantization, dst);
      return;
    }
    std::memset(dst, zeroByte, padding * paddedWidth);
    for (size_t y = 0; y < height; ++y) {
      uint8_t* row = dst + (y + padding) * paddedWidth;
      std::memset(row, zeroByte, padding);
      if (input.bytes != nullptr) {
        std::memcpy(row + padding, input.bytes + c * plane + y * width, width);
      } else {
        epilogue_.quantize(input.floats + c * plane + y * width, width, quantization, row + padding);
      }
      std::memset(row + padding + width, zeroByte, padding);
    }
    std::memset(dst + (height + padding) * paddedWidth, zeroByte, padding * paddedWidth);
  });
  return padded;
}

namespace {

// A run of output pixels that reads each tap's input row at one offset and lands in one strip of the panel.
struct PackRun {
  size_t source;  // offset of the first pixel's tap (0, 0) in the padded plane
  size_t strip;   // strip index within the panel
  int lane;       // first pixel's lane (column) within the strip
  int length;
};

// One pixel's 4-byte lane: its value in each of the quad's four tap rows, k0 in the low byte.
inline uint32_t laneOf(const uint8_t* a, const uint8_t* b, const uint8_t* c, const uint8_t* d, size_t x) {
  return static_cast<uint32_t>(a[x]) | static_cast<uint32_t>(b[x]) << 8 | static_cast<uint32_t>(c[x]) << 16 |
         static_cast<uint32_t>(d[x]) << 24;
}

// Interleaves four byte rows into the 4-byte lanes of one strip: lane j gets the rows' pixel j * stride.
void interleaveRun(const uint8_t* __restrict a, const uint8_t* __restrict b, const uint8_t* __restrict c,
                   const uint8_t* __restrict d, int stride, int length, uint32_t* __restrict lanes) {
  if (stride == 1) {
    // Chunks of a constant 16 lanes, which GCC turns into whole vectors; its own vector loop over `length`
    // left runs shorter than its vector width (most of them) to a scalar remainder loop.
    int first = 0;
    for (; first + 16 <= length; first += 16) {
      for (int j = first; j < first + 16; ++j) lanes[j] = laneOf(a, b, c, d, static_cast<size_t>(j));
    }
    for (int j = first; j < length; ++j) lanes[j] = laneOf(a, b, c, d, static_cast<size_t>(j));
    return;
  }
  for (int j = 0; j < length; ++j) lanes[j] = laneOf(a, b, c, d, static_cast<size_t>(j) * static_cast<size_t>(stride));
}

}  // namespace

// Panel layout: strips of kInt8TileColumns output pixels; in a strip, for each group of 4 k values, each
// pixel's 4 bytes together. k = (channel, ky, kx) as im2col orders it; past the depth the value is the zero
// point (real 0), past the last pixel too (those columns are never written back). The pixels are first cut
// into runs that stay on one output row and in one strip; every quad then copies the same runs from its taps.
void QuantizedConvolution::packPanel(const uint8_t* padded, size_t firstColumn, size_t columns, uint8_t* panel) const {
  const Geometry& g = geometry_;
  const size_t paddedWidth = static_cast<size_t>(g.input.width + 2 * g.padding);
  const size_t paddedPlane = paddedWidth * static_cast<size_t>(g.input.height + 2 * g.padding);
  const size_t outWidth = static_cast<size_t>(g.output.width);
  const size_t stride = static_cast<size_t>(g.stride);
  const bool pointwise = g.size == 1 && g.stride == 1 && g.padding == 0;  // consecutive pixels, consecutive bytes
  thread_local std::vector<PackRun> runs;  // per thread, kept between panels: no allocation per panel
  runs.clear();
  for (size_t column = firstColumn, last = firstColumn + columns; column < last;) {
    const size_t offset = column - firstColumn;
    const size_t strip = offset / kInt8TileColumns;
    const size_t lane = offset % kInt8TileColumns;
    const size_t oy = column / outWidth;
    const size_t ox = column % outWidth;
    size_t length = std::min(last - column, kInt8TileColumns - lane);
    if (!pointwise) length = std::min(length, outWidth - ox);
    const size_t source = pointwise ? column : oy * stride * paddedWidth + ox * stride;
    runs.push_back(PackRun{source, strip, static_cast<int>(lane), static_cast<int>(length)});
    column += length;
  }
  const size_t stripBytes = static_cast<size_t>(weights_.paddedDepth) * kInt8TileColumns;
  const size_t strips = roundUpTo(columns, kInt8TileColumns) / kInt8TileColumns;
  const uint32_t zeroLanes = static_cast<uint32_t>(choice_.inputZeroPoint) * 0x01010101u;
  const int depth = weights_.depth;
  const int quads = weights_.paddedDepth / kInt8DepthStep;
  const int size = g.size;
  for (int q = 0; q < quads; ++q) {
    const uint8_t* taps[kInt8DepthStep];
    bool pastDepth[kInt8DepthStep];
    for (int i = 0; i < kInt8DepthStep; ++i) {
      const int k = q * kInt8DepthStep + i;
      pastDepth[i] = k >= depth;
      const size_t channel = static_cast<size_t>(k / (size * size));
      const size_t ky = static_cast<size_t>((k / size) % size);
      const size_t kx = static_cast<size_t>(k % size);
      taps[i] = pastDepth[i] ? nullptr : padded + channel * paddedPlane + ky * paddedWidth + kx;
    }
    uint8_t* quadBase = panel + static_cast<size_t>(q) * kInt8TileColumns * kInt8DepthStep;
    for (const PackRun& run : runs) {
      const uint8_t* rows[kInt8DepthStep];
      // Past the depth: the zero row, one strip of zero points at every stride.
      for (int i = 0; i < kInt8DepthStep; ++i) rows[i] = pastDepth[i] ? zeroRow_.data() : taps[i] + run.source;
      uint32_t* lanes = reinterpret_cast<uint32_t*>(quadBase + run.strip * stripBytes) + run.lane;
      interleaveRun(rows[0], rows[1], rows[2], rows[3], g.stride, run.length, lanes);
    }
    const size_t lastLane = columns - (strips - 1) * kInt8TileColumns;
    uint32_t* tail = reinterpret_cast<uint32_t*>(quadBase + (strips - 1) * stripBytes);
    for (size_t j = lastLane; j < kInt8TileColumns; ++j) tail[j] = zeroLanes;
  }
}

// Row blocks [firstBlock, firstBlock + blocks) over every strip of a packed panel; each micro-tile is
// dequantised, biased and activated straight into the output while it is in cache.
void QuantizedConvolution::computePanel(const uint8_t* panel, size_t firstColumn, size_t columns, int firstBlock,
                                        int blocks, const Int8Output& output) const {
  const size_t stripBytes = static_cast<size_t>(weights_.paddedDepth) * kInt8TileColumns;
  const size_t strips = roundUpTo(columns, kInt8TileColumns) / kInt8TileColumns;
  alignas(64) int32_t tile[kInt8MaxTileRows * kInt8TileColumns];
  const Int8TileScope tiles(weights_);
  for (int b = firstBlock; b < firstBlock + blocks; ++b) {
    for (size_t s = 0; s < strips; ++s) {
      const size_t column = firstColumn + s * kInt8TileColumns;
      const size_t valid = std::min<size_t>(kInt8TileColumns, firstColumn + columns - column);
      int8MicroTile(weights_, b, panel + s * stripBytes, static_cast<int>(valid), tile);
      storeTile(tile, b, column, valid, output);
    }
  }
}

// The epilogue of one micro-tile: its rows' sums dequantised, biased and activated into output channels
// block * tileRows + r, pixels [column, column + valid), as floats or quantised for the reader.
void QuantizedConvolution::storeTile(const int32_t* tile, int block, size_t column, size_t valid,
                                     const Int8Output& output) const {
  const size_t plane = geometry_.output.plane();
  const int tileRows = weights_.tileRows;
  const int rows = std::min(tileRows, weights_.rows - block * tileRows);
  const ByteQuantization quantization{1.f / output.scale, static_cast<float>(output.zeroPoint)};
  for (int r = 0; r < rows; ++r) {
    const size_t channel = static_cast<size_t>(block * tileRows + r);
    const int32_t* acc = tile + r * kInt8TileColumns;
    const ChannelAffine affine{zeroPointTerms_[channel], outputScales_[channel], bias_[channel]};
    if (output.bytes != nullptr) {
      epilogue_.toBytes(acc, valid, affine, activation_, quantization, output.bytes + channel * plane + column);
    } else {
      epilogue_.toFloats(acc, valid, affine, activation_, output.floats + channel * plane + column);
    }
  }
}

void QuantizedConvolution::run(const Int8Input& input, const Int8Output& output, uint8_t* scratch, ThreadPool& pool) const {
  const int workers = pool.size();
  const size_t columns = geometry_.output.plane();
  const size_t panel = panelColumns();
  const size_t depth = static_cast<size_t>(weights_.paddedDepth);
  // 64-byte offset: the panels are written and read as 32-bit lanes.
  uint8_t* panels = scratch + roundUpTo(paddedInputBytes(), 64);
  const uint8_t* quantized = padInput(input, scratch, pool);
  const size_t panelCount = (columns + panel - 1) / panel;
  if (packsWholeLayer(workers)) {
    pool.parallelFor(panelCount, [&](size_t p, int) {
      const size_t first = p * panel;
      packPanel(quantized, first, std::min(panel, columns - first), panels + first * depth);
    });
    // Strips of all panels lie back to back: the whole layer is one panel of `paddedColumns` columns.
    const int blocks = weights_.rowBlocks;
    const int items = std::min(blocks, workers * 4);
    pool.parallelFor(static_cast<size_t>(items), [&](size_t item, int) {
      const int first = static_cast<int>(item) * blocks / items;
      const int end = static_cast<int>(item + 1) * blocks / items;
      computePanel(panels, 0, columns, first, end - first, output);
    });
    return;
  }
  pool.parallelFor(panelCount, [&](size_t p, int worker) {
    const size_t first = p * panel;
    const size_t count = std::min(panel, columns - first);
    uint8_t* own = panels + static_cast<size_t>(worker) * depth * panel;
    packPanel(quantized, first, count, own);
    computePanel(own, first, count, 0, weights_.rowBlocks, output);
  });
}

}  // namespace emofleet
