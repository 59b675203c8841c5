// INT8 GEMM for convolutions: u8 activations x s8 weights, summed in int32. The activations are laid out as
// AVX-512 VNNI's vpdpbusd and AMX's tdpbsud read them (4 consecutive k values per 32-bit lane); each kernel
// packs the weights its own way. Every kernel computes the same integers: AMX-INT8, AVX-512 VNNI and AVX2
// (x86-64, chosen at run time), NEON sdot (aarch64 dotprod builds) and a portable one (plain C++, everywhere else).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../aligned_vector.hpp"

namespace emofleet {

constexpr int kInt8VectorTileRows = 8;  // output channels per micro-tile of the vector kernels
constexpr int kInt8AmxTileRows = 32;    // output channels per micro-tile of AMX: two tile registers' rows
constexpr int kInt8MaxTileRows = 32;    // the most rows any kernel's micro-tile has
constexpr int kInt8TileColumns = 48;    // output pixels per micro-tile: 3 x 16 int32 lanes
constexpr int kInt8DepthStep = 4;       // k values one int32 lane sums per instruction
constexpr int kInt8AmxDepthStep = 64;   // k values one AMX tile multiply sums at most: 16 quads

enum class Int8Kernel { Portable, Avx512Vnni, Avx2, NeonDotprod, AmxInt8 };

const char* int8KernelName(Int8Kernel kernel);
/**
 * The fastest kernel this CPU (and its OS) can run: AMX-INT8 when cpuid and XCR0 show it (with AVX-512 for its
 * epilogue) and Linux grants this process the tile state (arch_prctl ARCH_REQ_XCOMP_PERM), else AVX-512 VNNI when
 * cpuid and XCR0 allow it, else AVX2; NEON sdot in aarch64 builds compiled for dotprod (-march=armv8.2-a+dotprod:
 * Xavier, Orin) when HWCAP says the CPU has it; else portable (e.g. the Cortex-A57 of a TX1 or Nano, and every
 * default armv8-a build).
 * EMOFLEET_INT8_KERNEL=<name> (int8KernelName) forces an available kernel, for benchmarks of one against another.
 */
Int8Kernel detectInt8Kernel();
bool int8KernelAvailable(Int8Kernel kernel);

inline size_t roundUpTo(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

/** Output channels in one micro-tile of `kernel`: kInt8AmxTileRows for AMX, kInt8VectorTileRows for the others. */
int int8TileRows(Int8Kernel kernel);
/**
 * The k values one step of `kernel`'s micro-kernel sums for a layer of `depth`, which the depth is padded to a
 * multiple of: one quad (4) for the vector kernels; for AMX a whole tile row (64), or the depth rounded up to a
 * quad when it is shorter (a first layer's 27), so short layers are not padded to 64 with zeros.
 */
int int8DepthStep(Int8Kernel kernel, int depth);

/**
 * Weights as one kernel reads them: blocks of tileRows output channels. Rows beyond `rows` and k beyond `depth`
 * are 0.
 * - Vector kernels: inside a block, for each group of 4 k values (a quad), the 8 rows' values one after another.
 *   In a row's quad the values are 4 bytes k0 k1 k2 k3 (`bytes`), except for the AVX2 kernel, which has no byte
 *   dot product and multiplies 16-bit pairs exactly: 4 int16 k0 k2 k1 k3 (`pairs`), twice the bytes.
 * - AMX: inside a block, for each step of depthStep k values, the 32 rows x depthStep bytes, row-major (`bytes`):
 *   two tile registers' worth, rows 0-15 then 16-31.
 */
struct PackedInt8Weights {
  Int8Kernel kernel = Int8Kernel::Portable;
  int rows = 0;
  int depth = 0;
  int depthStep = kInt8DepthStep;  // int8DepthStep(kernel, depth)
  int paddedDepth = 0;             // depth rounded up to depthStep
  int tileRows = kInt8VectorTileRows;
  int rowBlocks = 0;
  AlignedVector<int8_t> bytes;
  AlignedVector<int16_t> pairs;
  size_t blockValues() const { return static_cast<size_t>(paddedDepth) * static_cast<size_t>(tileRows); }
};

/** Packs a row-major rows x depth int8 matrix for `kernel`. */
PackedInt8Weights packInt8Weights(const int8_t* rowMajor, int rows, int depth, Int8Kernel kernel);

/**
 * One micro-tile: tile[r * kInt8TileColumns + j] = sum over k of weights(block * tileRows + r, k) * strip(k, j)
 * for r < tileRows, where `strip` is paddedDepth / 4 groups of kInt8TileColumns x 4 bytes (column j's 4 k values
 * together), run by the kernel the weights were packed for. Every kernel returns identical integers. Columns
 * from `columns` on may be left unwritten (a kernel may skip the vectors past them). The AMX kernel runs only
 * inside an Int8TileScope on the calling thread.
 */
void int8MicroTile(const PackedInt8Weights& weights, int block, const uint8_t* strip, int columns, int32_t* tile);

/**
 * The tile registers' shapes for AMX weights (their depth step sets them), loaded on this thread for the scope's
 * lifetime and released at its end (so a context switch saves no tile state after it). Nothing for the other
 * kernels. One per thread at a time: it is the thread's tile configuration.
 */
class Int8TileScope {
 public:
  explicit Int8TileScope(const PackedInt8Weights& weights);
  ~Int8TileScope();
  Int8TileScope(const Int8TileScope&) = delete;
  Int8TileScope& operator=(const Int8TileScope&) = delete;

 private:
  bool configured_ = false;
};

}  // namespace emofleet
