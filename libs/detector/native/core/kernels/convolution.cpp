#include "convolution.hpp"

#include <algorithm>

#include "activation.hpp"
#include "depthwise_convolution.hpp"
#include "im2col.hpp"
#include "sgemm.hpp"

namespace emofleet {
namespace {

// An im2col tile of about this many bytes stays in L2 while SGEMM consumes it.
constexpr size_t kTileBytes = 384 * 1024;
constexpr size_t kMinTileColumns = 64;
constexpr int kMinRowBlock = 16;
// Layers with at most this many output pixels are unrolled whole (see runFusedWholeLayer).
constexpr size_t kWholeLayerColumns = 1024;

struct ConvShape {
  int groups;
  int rowsPerGroup;      // M: filters per group
  int depth;             // K: (channels per group) * size * size
  size_t columns;        // N: output pixels
  bool direct;           // 1x1, stride 1, no padding: the input already is the GEMM operand
  PatchGeometry patches;
};

ConvShape shapeOf(const LayerSpec& layer) {
  const ConvolutionParams& p = layer.convolution;
  ConvShape s{};
  s.groups = p.groups;
  s.rowsPerGroup = p.filters / p.groups;
  s.depth = layer.input.channels / p.groups * p.size * p.size;
  s.columns = layer.output.plane();
  s.direct = p.size == 1 && p.stride == 1 && p.padding == 0;
  s.patches = PatchGeometry{layer.input, p.size, p.stride, p.padding, layer.output.height, layer.output.width};
  return s;
}

bool isDepthwise(const LayerSpec& layer) {
  const ConvolutionParams& p = layer.convolution;
  return p.groups > 1 && p.groups == layer.input.channels && p.filters == p.groups;
}

size_t tileColumns(const ConvShape& s) {
  const size_t byBytes = kTileBytes / (static_cast<size_t>(s.depth) * sizeof(float));
  const size_t rounded = std::max(kMinTileColumns, byBytes / 16 * 16);
  return std::min(rounded, s.columns);
}

// Few output pixels (deep, low-resolution layers): column tiles would be too narrow for SGEMM and every
// tile would re-pack the large kernel matrix. Unroll the whole (small) input once, then give each worker
// a block of filters: SGEMM on the block, bias + activation on its rows while they are still in cache.
bool unrollsWholeLayer(const ConvShape& s) { return s.columns <= kWholeLayerColumns; }

void runFusedWholeLayer(const LayerSpec& layer, const LayerParameters& params, const float* input, float* output,
                        float* scratch, ThreadPool& pool) {
  const ConvShape s = shapeOf(layer);
  const size_t inChannelsPerGroup = static_cast<size_t>(layer.input.channels / s.groups);
  const size_t rowsPerChannel = static_cast<size_t>(s.depth) / inChannelsPerGroup;
  const size_t groupFloats = static_cast<size_t>(s.depth) * s.columns;
  if (!s.direct) {
    pool.parallelFor(static_cast<size_t>(layer.input.channels), [&](size_t c, int) {
      const size_t g = c / inChannelsPerGroup;
      im2colTile(input, s.patches, static_cast<int>(c), 1, 0, s.columns,
                 scratch + g * groupFloats + (c % inChannelsPerGroup) * rowsPerChannel * s.columns);
    });
  }
  // One filter block per worker: each SGEMM call re-packs the shared unrolled input.
  const size_t wanted = static_cast<size_t>(pool.size());
  const size_t blocksPerGroup = std::max<size_t>(
      1, std::min((wanted + static_cast<size_t>(s.groups) - 1) / static_cast<size_t>(s.groups),
                  static_cast<size_t>(s.rowsPerGroup / kMinRowBlock)));
  const int rowsPerBlock = static_cast<int>((static_cast<size_t>(s.rowsPerGroup) + blocksPerGroup - 1) / blocksPerGroup);
  pool.parallelFor(static_cast<size_t>(s.groups) * blocksPerGroup, [&](size_t item, int) {
    const size_t g = item / blocksPerGroup;
    const int firstRow = static_cast<int>(item % blocksPerGroup) * rowsPerBlock;
    const int rows = std::min(rowsPerBlock, s.rowsPerGroup - firstRow);
    if (rows <= 0) return;
    const float* operand = s.direct ? input + g * inChannelsPerGroup * s.columns : scratch + g * groupFloats;
    const size_t firstFilter = g * static_cast<size_t>(s.rowsPerGroup) + static_cast<size_t>(firstRow);
    float* result = output + firstFilter * s.columns;
    sgemm(rows, static_cast<int>(s.columns), s.depth, params.weights.data() + firstFilter * static_cast<size_t>(s.depth),
          s.depth, operand, static_cast<int>(s.columns), result, static_cast<int>(s.columns));
    for (int r = 0; r < rows; ++r) {
      biasActivate(result + static_cast<size_t>(r) * s.columns, s.columns, params.bias[firstFilter + static_cast<size_t>(r)],
                   layer.convolution.activation);
    }
  });
}

void runFused(const LayerSpec& layer, const LayerParameters& params, const float* input, float* output, float* scratch,
              ThreadPool& pool) {
  const ConvShape s = shapeOf(layer);
  if (unrollsWholeLayer(s)) {
    runFusedWholeLayer(layer, params, input, output, scratch, pool);
    return;
  }
  const size_t tile = tileColumns(s);
  const size_t tiles = (s.columns + tile - 1) / tile;
  const size_t perWorker = static_cast<size_t>(s.depth) * tile;
  // Enough work items for every worker: split the filters when there are few column tiles.
  const size_t wanted = static_cast<size_t>(pool.size()) * 2;
  size_t rowBlocks = 1;
  if (static_cast<size_t>(s.groups) * tiles < wanted) {
    rowBlocks = (wanted + static_cast<size_t>(s.groups) * tiles - 1) / (static_cast<size_t>(s.groups) * tiles);
    rowBlocks = std::max<size_t>(1, std::min(rowBlocks, static_cast<size_t>(s.rowsPerGroup / kMinRowBlock)));
  }
  const int rowsPerBlock = static_cast<int>((static_cast<size_t>(s.rowsPerGroup) + rowBlocks - 1) / rowBlocks);
  const size_t items = static_cast<size_t>(s.groups) * rowBlocks * tiles;
  const size_t inChannelsPerGroup = static_cast<size_t>(layer.input.channels / s.groups);
  pool.parallelFor(items, [&](size_t item, int worker) {
    const size_t t = item % tiles;
    const size_t block = (item / tiles) % rowBlocks;
    const size_t g = item / (tiles * rowBlocks);
    const int firstRow = static_cast<int>(block) * rowsPerBlock;
    const int rows = std::min(rowsPerBlock, s.rowsPerGroup - firstRow);
    if (rows <= 0) return;
    const size_t firstColumn = t * tile;
    const size_t columns = std::min(tile, s.columns - firstColumn);
    const float* operand = nullptr;
    int operandStride = 0;
    if (s.direct) {
      operand = input + g * inChannelsPerGroup * s.columns + firstColumn;
      operandStride = static_cast<int>(s.columns);
    } else {
      float* unrolled = scratch + static_cast<size_t>(worker) * perWorker;
      im2colTile(input, s.patches, static_cast<int>(g * inChannelsPerGroup), static_cast<int>(inChannelsPerGroup),
                 firstColumn, columns, unrolled);
      operand = unrolled;
      operandStride = static_cast<int>(columns);
    }
    const size_t firstFilter = g * static_cast<size_t>(s.rowsPerGroup) + static_cast<size_t>(firstRow);
    const float* kernel = params.weights.data() + firstFilter * static_cast<size_t>(s.depth);
    float* result = output + firstFilter * s.columns + firstColumn;
    sgemm(rows, static_cast<int>(columns), s.depth, kernel, s.depth, operand, operandStride, result,
          static_cast<int>(s.columns));
    for (int r = 0; r < rows; ++r) {
      biasActivate(result + static_cast<size_t>(r) * s.columns, columns, params.bias[firstFilter + static_cast<size_t>(r)],
                   layer.convolution.activation);
    }
  });
}

void runUnfused(const LayerSpec& layer, const LayerParameters& params, const float* input, float* output,
                float* scratch, ThreadPool& pool) {
  const ConvShape s = shapeOf(layer);
  const size_t inChannelsPerGroup = static_cast<size_t>(layer.input.channels / s.groups);
  const size_t workers = static_cast<size_t>(pool.size());
  for (int g = 0; g < s.groups; ++g) {
    const float* operand = input + static_cast<size_t>(g) * inChannelsPerGroup * s.columns;
    if (!s.direct) {
      // Whole-layer unroll, split by channel across workers.
      const size_t rowsPerChannel = static_cast<size_t>(s.depth) / inChannelsPerGroup;
      pool.parallelFor(inChannelsPerGroup, [&](size_t c, int) {
        im2colTile(input, s.patches, static_cast<int>(static_cast<size_t>(g) * inChannelsPerGroup + c), 1, 0,
                   s.columns, scratch + c * rowsPerChannel * s.columns);
      });
      operand = scratch;
    }
    const size_t rowsPerWorker = (static_cast<size_t>(s.rowsPerGroup) + workers - 1) / workers;
    pool.parallelFor(workers, [&](size_t w, int) {
      const size_t firstRow = w * rowsPerWorker;
      if (firstRow >= static_cast<size_t>(s.rowsPerGroup)) return;
      const size_t rows = std::min(rowsPerWorker, static_cast<size_t>(s.rowsPerGroup) - firstRow);
      const size_t firstFilter = static_cast<size_t>(g) * static_cast<size_t>(s.rowsPerGroup) + firstRow;
      sgemm(static_cast<int>(rows), static_cast<int>(s.columns), s.depth,
            params.weights.data() + firstFilter * static_cast<size_t>(s.depth), s.depth, operand,
            static_cast<int>(s.columns), output + firstFilter * s.columns, static_cast<int>(s.columns));
    });
  }
  const size_t filters = static_cast<size_t>(layer.output.channels);
  pool.parallelFor(filters, [&](size_t f, int) { addBias(output + f * s.columns, s.columns, params.bias[f]); });
  pool.parallelFor(filters, [&](size_t f, int) {
    activateInPlace(output + f * s.columns, s.columns, layer.convolution.activation);
  });
}

}  // namespace

size_t convolutionScratchFloats(const LayerSpec& layer, bool fuse, int workers) {
  if (isDepthwise(layer)) return 0;
  const ConvShape s = shapeOf(layer);
  if (s.direct) return 0;
  const size_t wholeLayer = static_cast<size_t>(s.depth) * s.columns * static_cast<size_t>(s.groups);
  if (fuse && !unrollsWholeLayer(s)) return static_cast<size_t>(workers) * static_cast<size_t>(s.depth) * tileColumns(s);
  return wholeLayer;
}

void runConvolution(const LayerSpec& layer, const LayerParameters& params, const float* input, float* output,
                    float* scratch, ThreadPool& pool, bool fuse) {
  if (isDepthwise(layer)) {
    runDepthwiseConvolution(layer, params, input, output, pool, fuse);
  } else if (fuse) {
    runFused(layer, params, input, output, scratch, pool);
  } else {
    runUnfused(layer, params, input, output, scratch, pool);
  }
}

}  // namespace emofleet
