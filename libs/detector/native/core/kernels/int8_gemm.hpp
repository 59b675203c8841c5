// INT8 GEMM for convolutions: u8 activations x s8 weights, summed in int32, in the operand layouts that
// AVX-512 VNNI's vpdpbusd reads (4 consecutive k values per 32-bit lane). Two kernels compute the same
// integers: a VNNI one (x86-64, chosen at run time) and a portable one (plain C++, everywhere else).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace emofleet {

constexpr int kInt8TileRows = 8;      // output channels per micro-tile
constexpr int kInt8TileColumns = 48;  // output pixels per micro-tile: 3 x 16 int32 lanes
constexpr int kInt8DepthStep = 4;     // k values one int32 lane sums per instruction

enum class Int8Kernel { Portable, Avx512Vnni, NeonDotprod };

const char* int8KernelName(Int8Kernel kernel);
/**
 * The fastest kernel this CPU (and its OS) can run: AVX-512 VNNI when cpuid and XCR0 allow it; NEON sdot in aarch64
 * builds compiled for dotprod (-march=armv8.2-a+dotprod: Xavier, Orin) when HWCAP says the CPU has it; else
 * portable (e.g. the Cortex-A57 of a TX1 or Nano, and every default armv8-a build).
 */
Int8Kernel detectInt8Kernel();
bool int8KernelAvailable(Int8Kernel kernel);

inline size_t roundUpTo(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

/**
 * Weights as the kernels read them: blocks of kInt8TileRows output channels; inside a block, for each group of
 * 4 k values, the 8 rows' 4 bytes one after another. Rows beyond `rows` and k beyond `depth` are 0.
 */
struct PackedInt8Weights {
  int rows = 0;
  int depth = 0;
  int paddedDepth = 0;  // depth rounded up to kInt8DepthStep
  int rowBlocks = 0;
  std::vector<int8_t> data;
  const int8_t* block(int index) const {
    return data.data() + static_cast<size_t>(index) * static_cast<size_t>(paddedDepth) * kInt8TileRows;
  }
};

/** Packs a row-major rows x depth int8 matrix. */
PackedInt8Weights packInt8Weights(const int8_t* rowMajor, int rows, int depth);

/**
 * One micro-tile: tile[r * kInt8TileColumns + j] = sum over k of weights(r, k) * strip(k, j), where `strip` is
 * depthQuads groups of kInt8TileColumns x 4 bytes (column j's 4 k values together) and `weightBlock` one block
 * of PackedInt8Weights. Both kernels return identical integers.
 */
void int8MicroTile(Int8Kernel kernel, const int8_t* weightBlock, const uint8_t* strip, int depthQuads, int32_t* tile);

}  // namespace emofleet
