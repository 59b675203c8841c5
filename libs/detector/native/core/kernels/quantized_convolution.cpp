#include "quantized_convolution.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "../detector_error.hpp"
#include "activation.hpp"

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
    : activation_(layer.convolution.activation), choice_(choice), kernel_(kernel) {
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

size_t QuantizedConvolution::scratchBytes(int workers) const {
  const size_t depth = static_cast<size_t>(weights_.paddedDepth);
  const size_t panel = panelColumns();
  const size_t rows = static_cast<size_t>(workers) * kInt8DepthStep * panel;
  const size_t panels = packsWholeLayer(workers) ? depth * roundUpTo(geometry_.output.plane(), kInt8TileColumns)
                                                 : static_cast<size_t>(workers) * depth * panel;
  return roundUpTo(geometry_.input.elements(), 64) + roundUpTo(rows, 64) + panels;
}

void QuantizedConvolution::quantizeInput(const float* input, uint8_t* quantized, ThreadPool& pool) const {
  const float inverse = 1.f / choice_.inputScale;
  const float zeroPoint = static_cast<float>(choice_.inputZeroPoint);
  const size_t plane = geometry_.input.plane();
  pool.parallelFor(static_cast<size_t>(geometry_.input.channels), [&](size_t c, int) {
    const float* src = input + c * plane;
    uint8_t* dst = quantized + c * plane;
    for (size_t i = 0; i < plane; ++i) dst[i] = quantizeToUint8(src[i], inverse, zeroPoint);
  });
}

// Panel layout: strips of kInt8TileColumns output pixels; in a strip, for each group of 4 k values, each
// pixel's 4 bytes together. k = (channel, ky, kx) as im2col orders it; outside the input and past the depth
// the value is the zero point (real 0), past the last pixel too (those columns are never written back).
void QuantizedConvolution::packPanel(const uint8_t* quantized, size_t firstColumn, size_t columns, uint8_t* rows,
                                     uint8_t* panel) const {
  const Geometry& g = geometry_;
  const uint8_t zeroPoint = static_cast<uint8_t>(choice_.inputZeroPoint);
  const size_t paddedColumns = roundUpTo(columns, kInt8TileColumns);
  const size_t strips = paddedColumns / kInt8TileColumns;
  const int depth = weights_.depth;
  const int quads = weights_.paddedDepth / kInt8DepthStep;
  const size_t stripBytes = static_cast<size_t>(weights_.paddedDepth) * kInt8TileColumns;
  const int outWidth = g.output.width;
  for (int q = 0; q < quads; ++q) {
    for (int i = 0; i < kInt8DepthStep; ++i) {
      uint8_t* row = rows + static_cast<size_t>(i) * paddedColumns;
      const int k = q * kInt8DepthStep + i;
      std::memset(row, zeroPoint, paddedColumns);
      if (k >= depth) continue;
      const int kx = k % g.size;
      const int ky = (k / g.size) % g.size;
      const int channel = k / (g.size * g.size);
      const uint8_t* plane = quantized + static_cast<size_t>(channel) * g.input.plane();
      size_t column = firstColumn;
      const size_t last = firstColumn + columns;
      while (column < last) {
        const int oy = static_cast<int>(column / static_cast<size_t>(outWidth));
        const int oxStart = static_cast<int>(column % static_cast<size_t>(outWidth));
        const int oxEnd = static_cast<int>(std::min<size_t>(static_cast<size_t>(outWidth), oxStart + (last - column)));
        uint8_t* segment = row + (column - firstColumn);
        const int iy = oy * g.stride - g.padding + ky;
        if (iy >= 0 && iy < g.input.height) {
          const uint8_t* src = plane + static_cast<size_t>(iy) * static_cast<size_t>(g.input.width);
          const int shift = kx - g.padding;
          if (g.stride == 1) {
            const int first = std::max(oxStart, -shift);
            const int end = std::min(oxEnd, g.input.width - shift);
            if (first < end) std::memcpy(segment + (first - oxStart), src + first + shift, static_cast<size_t>(end - first));
          } else {
            for (int ox = oxStart; ox < oxEnd; ++ox) {
              const int ix = ox * g.stride + shift;
              if (ix >= 0 && ix < g.input.width) segment[ox - oxStart] = src[ix];
            }
          }
        }
        column += static_cast<size_t>(oxEnd - oxStart);
      }
    }
    const uint8_t* r0 = rows;
    const uint8_t* r1 = rows + paddedColumns;
    const uint8_t* r2 = rows + 2 * paddedColumns;
    const uint8_t* r3 = rows + 3 * paddedColumns;
    for (size_t s = 0; s < strips; ++s) {
      uint32_t* dst = reinterpret_cast<uint32_t*>(panel + s * stripBytes + static_cast<size_t>(q) * kInt8TileColumns * 4);
      const size_t base = s * kInt8TileColumns;
      for (int j = 0; j < kInt8TileColumns; ++j) {
        const size_t c = base + static_cast<size_t>(j);
        dst[j] = static_cast<uint32_t>(r0[c]) | static_cast<uint32_t>(r1[c]) << 8 | static_cast<uint32_t>(r2[c]) << 16 |
                 static_cast<uint32_t>(r3[c]) << 24;
      }
    }
  }
}

// Row blocks [firstBlock, firstBlock + blocks) over every strip of a packed panel; each micro-tile is
// dequantised, biased and activated straight into the output.
void QuantizedConvolution::computePanel(const uint8_t* panel, size_t firstColumn, size_t columns, int firstBlock,
                                        int blocks, float* output) const {
  const size_t plane = geometry_.output.plane();
  const size_t stripBytes = static_cast<size_t>(weights_.paddedDepth) * kInt8TileColumns;
  const size_t strips = roundUpTo(columns, kInt8TileColumns) / kInt8TileColumns;
  alignas(64) int32_t tile[kInt8TileRows * kInt8TileColumns];
  for (int b = firstBlock; b < firstBlock + blocks; ++b) {
    const int rows = std::min(kInt8TileRows, weights_.rows - b * kInt8TileRows);
    for (size_t s = 0; s < strips; ++s) {
      int8MicroTile(weights_, b, panel + s * stripBytes, tile);
      const size_t column = firstColumn + s * kInt8TileColumns;
      const size_t valid = std::min<size_t>(kInt8TileColumns, firstColumn + columns - column);
      for (int r = 0; r < rows; ++r) {
        const size_t channel = static_cast<size_t>(b * kInt8TileRows + r);
        const int32_t* acc = tile + r * kInt8TileColumns;
        const int32_t zeroTerm = zeroPointTerms_[channel];
        const float scale = outputScales_[channel];
        float* dst = output + channel * plane + column;
        for (size_t j = 0; j < valid; ++j) dst[j] = static_cast<float>(acc[j] - zeroTerm) * scale;
        biasActivate(dst, valid, bias_[channel], activation_);
      }
    }
  }
}

void QuantizedConvolution::run(const float* input, float* output, uint8_t* scratch, ThreadPool& pool) const {
  const int workers = pool.size();
  const size_t columns = geometry_.output.plane();
  const size_t panel = panelColumns();
  const size_t depth = static_cast<size_t>(weights_.paddedDepth);
  uint8_t* quantized = scratch;
  // 64-byte offsets: the panels are written and read as 32-bit lanes.
  uint8_t* rows = quantized + roundUpTo(geometry_.input.elements(), 64);
  uint8_t* panels = rows + roundUpTo(static_cast<size_t>(workers) * kInt8DepthStep * panel, 64);
  quantizeInput(input, quantized, pool);
  const size_t panelCount = (columns + panel - 1) / panel;
  if (packsWholeLayer(workers)) {
    pool.parallelFor(panelCount, [&](size_t p, int worker) {
      const size_t first = p * panel;
      packPanel(quantized, first, std::min(panel, columns - first), rows + static_cast<size_t>(worker) * kInt8DepthStep * panel,
                panels + first * depth);
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
    packPanel(quantized, first, count, rows + static_cast<size_t>(worker) * kInt8DepthStep * panel, own);
    computePanel(own, first, count, 0, weights_.rowBlocks, output);
  });
}

}  // namespace emofleet
