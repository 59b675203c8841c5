// INT8 GEMM for convolutions: u8 activations x s8 weights, summed in int32, in the operand layouts that
// AVX-512 VNNI's vpdpbusd reads (4 consecutive k values per 32-bit lane). Every kernel computes the same
// integers: AVX-512 VNNI and AVX2 (x86-64, chosen at run time), NEON sdot (aarch64 dotprod builds) and a
// portable one (plain C++, everywhere else).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace emofleet {

constexpr int kInt8TileRows = 8;      // output channels per micro-tile
constexpr int kInt8TileColumns = 48;  // output pixels per micro-tile: 3 x 16 int32 lanes
constexpr int kInt8DepthStep = 4;     // k values one int32 lane sums per instruction

enum class Int8Kernel { Portable, Avx512Vnni, Avx2, NeonDotprod };

const char* int8KernelName(Int8Kernel kernel);
/**
 * The fastest kernel this CPU (and its OS) can run: AVX-512 VNNI when cpuid and XCR0 allow it, else AVX2; NEON sdot
 * in aarch64 builds compiled for dotprod (-march=armv8.2-a+dotprod: Xavier, Orin) when HWCAP says the CPU has it;
 * else portable (e.g. the Cortex-A57 of a TX1 or Nano, and every default armv8-a build).
 * EMOFLEET_INT8_KERNEL=<name> (int8KernelName) forces an available kernel, for benchmarks of one against another.
 */
Int8Kernel detectInt8Kernel();
bool int8KernelAvailable(Int8Kernel kernel);

inline size_t roundUpTo(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

/**
 * Weights as one kernel reads them: blocks of kInt8TileRows output channels; inside a block, for each group of
 * 4 k values (a quad), the 8 rows' values one after another. Rows beyond `rows` and k beyond `depth` are 0.
 * In a row's quad the values are 4 bytes k0 k1 k2 k3 (`bytes`), except for the AVX2 kernel, which has no byte
 * dot product and multiplies 16-bit pairs exactly: 4 int16 k0 k2 k1 k3 (`pairs`), twice the bytes.
 */
struct PackedInt8Weights {
  Int8Kernel kernel = Int8Kernel::Portable;
  int rows = 0;
  int depth = 0;
  int paddedDepth = 0;  // depth rounded up to kInt8DepthStep
  int rowBlocks = 0;
  std::vector<int8_t> bytes;
  std::vector<int16_t> pairs;
  size_t blockValues() const { return static_cast<size_t>(paddedDepth) * kInt8TileRows; }
};

/** Packs a row-major rows x depth int8 matrix for `kernel`. */
PackedInt8Weights packInt8Weights(const int8_t* rowMajor, int rows, int depth, Int8Kernel kernel);

/**
 * One micro-tile: tile[r * kInt8TileColumns + j] = sum over k of weights(block * kInt8TileRows + r, k) *
 * strip(k, j), where `strip` is paddedDepth / 4 groups of kInt8TileColumns x 4 bytes (column j's 4 k values
 * together), run by the kernel the weights were packed for. Every kernel returns identical integers. Columns
 * from `columns` on may be left unwritten (a kernel may skip the vectors past them).
 */
void int8MicroTile(const PackedInt8Weights& weights, int block, const uint8_t* strip, int columns, int32_t* tile);

}  // namespace emofleet
