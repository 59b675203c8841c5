#include "int8_gemm.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../detector_error.hpp"

// The x86 kernels are compiled with per-function target attributes (no global -march), so the same object runs
// on every x86-64 CPU and picks its kernel at run time. GCC learned avx512vnni in version 8; GCC 7 (JetPack 4.6)
// builds AVX2 and portable there, and every non-x86 target builds without them.
#if defined(__x86_64__)
#define EMOFLEET_INT8_AVX2 1
#include <cpuid.h>
#include <immintrin.h>
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define EMOFLEET_INT8_VNNI 1
#endif
// AMX needs GCC 11 (or clang) for its intrinsics, and Linux (5.16+) for the tile state: a process asks for it once.
#if defined(__linux__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 11))
#define EMOFLEET_INT8_AMX 1
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

// NEON sdot: only in builds for dotprod CPUs (ARMv8.2+, e.g. -march=armv8.2-a+dotprod). sdot multiplies signed
// bytes, so the uint8 activations enter as (a - 128) and 128 * (row sum of the weights) is added back: the same
// integers as the portable kernel. A default armv8-a build (Cortex-A57: TX1, Nano) has no sdot and uses portable.
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#define EMOFLEET_INT8_NEON_DOTPROD 1
#include <arm_neon.h>
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

namespace emofleet {
namespace {

void microTilePortable(const int8_t* weights, const uint8_t* strip, int depthQuads, int32_t* tile) {
  int32_t acc[kInt8VectorTileRows][kInt8TileColumns] = {};
  for (int q = 0; q < depthQuads; ++q) {
    for (int r = 0; r < kInt8VectorTileRows; ++r) {
      const int32_t w0 = weights[r * 4 + 0];
      const int32_t w1 = weights[r * 4 + 1];
      const int32_t w2 = weights[r * 4 + 2];
      const int32_t w3 = weights[r * 4 + 3];
      int32_t* row = acc[r];
      for (int j = 0; j < kInt8TileColumns; ++j) {
        const uint8_t* b = strip + j * 4;
        row[j] += w0 * b[0] + w1 * b[1] + w2 * b[2] + w3 * b[3];
      }
    }
    weights += kInt8VectorTileRows * 4;
    strip += kInt8TileColumns * 4;
  }
  std::memcpy(tile, acc, sizeof(acc));
}

#ifdef EMOFLEET_INT8_NEON_DOTPROD

// 48 columns as 12 vectors of 4; three vectors (12 columns) x 8 rows = 24 int32x4 accumulators at a time.
constexpr int kNeonColumnVectors = 3;

void microTileNeonDotprod(const int8_t* weights, const uint8_t* strip, int depthQuads, int32_t* tile) {
  int32_t rowSums[kInt8VectorTileRows] = {};
  for (int q = 0; q < depthQuads; ++q) {
    for (int r = 0; r < kInt8VectorTileRows; ++r) {
      for (int i = 0; i < 4; ++i) rowSums[r] += weights[q * kInt8VectorTileRows * 4 + r * 4 + i];
    }
  }
  const uint8x16_t flip = vdupq_n_u8(0x80);
  for (int chunk = 0; chunk < kInt8TileColumns / 4; chunk += kNeonColumnVectors) {
    int32x4_t acc[kInt8VectorTileRows][kNeonColumnVectors];
    for (auto& row : acc) {
      for (auto& vector : row) vector = vdupq_n_s32(0);
    }
    for (int q = 0; q < depthQuads; ++q) {
      const int8x16_t low = vld1q_s8(weights + q * kInt8VectorTileRows * 4);        // rows 0-3, 4 k values each
      const int8x16_t high = vld1q_s8(weights + q * kInt8VectorTileRows * 4 + 16);  // rows 4-7
      const uint8_t* columns = strip + static_cast<size_t>(q) * kInt8TileColumns * 4 + chunk * 16;
      for (int v = 0; v < kNeonColumnVectors; ++v) {
        const int8x16_t b = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(columns + v * 16), flip));
        acc[0][v] = vdotq_laneq_s32(acc[0][v], b, low, 0);
        acc[1][v] = vdotq_laneq_s32(acc[1][v], b, low, 1);
        acc[2][v] = vdotq_laneq_s32(acc[2][v], b, low, 2);
        acc[3][v] = vdotq_laneq_s32(acc[3][v], b, low, 3);
        acc[4][v] = vdotq_laneq_s32(acc[4][v], b, high, 0);
        acc[5][v] = vdotq_laneq_s32(acc[5][v], b, high, 1);
        acc[6][v] = vdotq_laneq_s32(acc[6][v], b, high, 2);
        acc[7][v] = vdotq_laneq_s32(acc[7][v], b, high, 3);
      }
    }
    for (int r = 0; r < kInt8VectorTileRows; ++r) {
      const int32x4_t correction = vdupq_n_s32(128 * rowSums[r]);
      for (int v = 0; v < kNeonColumnVectors; ++v) {
        vst1q_s32(tile + r * kInt8TileColumns + (chunk + v) * 4, vaddq_s32(acc[r][v], correction));
      }
    }
  }
}

#endif

#ifdef EMOFLEET_INT8_AVX2

// What cpuid says the CPU has, and XCR0 which register state the OS saves on a context switch; zero bits when
// the OS saves no extended state (no OSXSAVE) or cpuid has no leaf 7.
struct X86Features {
  unsigned leaf7Ebx = 0;
  unsigned leaf7Ecx = 0;
  unsigned leaf7Edx = 0;
  uint64_t xcr0 = 0;
};

X86Features readX86Features() {
  X86Features features;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || (ecx & (1u << 27)) == 0) return features;  // OSXSAVE
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return features;
  unsigned xcr0Low = 0;
  unsigned xcr0High = 0;
  __asm__("xgetbv" : "=a"(xcr0Low), "=d"(xcr0High) : "c"(0));
  features.xcr0 = static_cast<uint64_t>(xcr0High) << 32 | xcr0Low;
  features.leaf7Ebx = ebx;
  features.leaf7Ecx = ecx;
  features.leaf7Edx = edx;
  return features;
}

bool cpuHasAvx2(const X86Features& f) {
  return (f.leaf7Ebx & (1u << 5)) != 0 && (f.xcr0 & 0x6u) == 0x6u;  // AVX2; SSE and AVX state
}

#ifdef EMOFLEET_INT8_VNNI
// AVX-512 F, BW and VL, which the VNNI and AMX layers' epilogue uses (int8_epilogue.cpp), with the register state
// enabled by the OS: SSE, AVX, opmask, ZMM0-15 upper halves, ZMM16-31.
bool cpuRunsAvx512(const X86Features& f) {
  const bool avx512f = (f.leaf7Ebx & (1u << 16)) != 0;
  const bool avx512bw = (f.leaf7Ebx & (1u << 30)) != 0;
  const bool avx512vl = (f.leaf7Ebx & (1u << 31)) != 0;
  return avx512f && avx512bw && avx512vl && (f.xcr0 & 0xE6u) == 0xE6u;
}

bool cpuRunsAvx512Vnni(const X86Features& f) { return cpuRunsAvx512(f) && (f.leaf7Ecx & (1u << 11)) != 0; }
#endif

#ifdef EMOFLEET_INT8_AMX
// Linux hands out the 8 KB of tile data state per process, on request (arch/x86/include/uapi/asm/prctl.h).
constexpr long kArchRequestXcompPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
constexpr long kXfeatureTileData = 18;               // XFEATURE_XTILEDATA

bool cpuRunsAmxInt8(const X86Features& f) {
  if (!cpuRunsAvx512(f)) return false;  // the epilogue of AMX layers is AVX-512
  const bool amxTile = (f.leaf7Edx & (1u << 24)) != 0;
  const bool amxInt8 = (f.leaf7Edx & (1u << 25)) != 0;
  const bool tileState = (f.xcr0 & (3ull << 17)) == (3ull << 17);  // XTILECFG and XTILEDATA enabled by the OS
  if (!amxTile || !amxInt8 || !tileState) return false;
  // Refused by kernels before 5.16, and when a signal stack already set up is too small for the tile state.
  return syscall(SYS_arch_prctl, kArchRequestXcompPermission, kXfeatureTileData) == 0;
}

// ldtilecfg's 64-byte operand: palette 1, then each tile register's bytes per row and rows.
struct alignas(64) AmxTileConfig {
  uint8_t palette = 1;
  uint8_t startRow = 0;
  uint8_t reserved[14] = {};
  uint16_t bytesPerRow[16] = {};
  uint8_t rows[16] = {};
};

// The AMX micro-tile is 32 rows x 48 pixels: 2 x 3 accumulator tiles (tmm0-5: rows 0-15 for the 3 groups of 16
// pixels, then rows 16-31), one tile of weights (tmm6: 16 rows x 64 k) and one of pixels (tmm7: 16 quads x 16
// pixels x 4 k, read from the strip at its row pitch). tdpbsud multiplies the signed bytes of its first operand
// (weights) by the unsigned bytes of its second (pixels), 4 products per int32 like vpdpbusd.
constexpr int kAmxAccumulatorTiles = 6;
constexpr int kAmxWeightTile = 6;
constexpr int kAmxPixelTile = 7;
constexpr size_t kAmxStripQuadBytes = kInt8TileColumns * 4;  // one quad of a strip: 48 pixels x 4 bytes

// A step of `step` k values: the weight tile is 16 rows x `step` bytes, the pixel tile step / 4 quads x 64 bytes.
__attribute__((target("amx-tile"))) void loadAmxTileConfig(int step) {
  AmxTileConfig config;
  for (int t = 0; t < kAmxAccumulatorTiles; ++t) {
    config.bytesPerRow[t] = 16 * sizeof(int32_t);
    config.rows[t] = 16;
  }
  config.bytesPerRow[kAmxWeightTile] = static_cast<uint16_t>(step);
  config.rows[kAmxWeightTile] = 16;
  config.bytesPerRow[kAmxPixelTile] = 64;
  config.rows[kAmxPixelTile] = static_cast<uint8_t>(step / kInt8DepthStep);
  // Not GCC 12's _tile_loadconfig: its asm names only the first 8 bytes as read, so the stores of the rest
  // were dropped as dead and ldtilecfg faulted on a config of zeros. This operand is the whole struct.
  __asm__ volatile("ldtilecfg %0" : : "m"(config));
}

__attribute__((target("amx-tile"))) void releaseAmxTiles() { _tile_release(); }

// Each step of `stepDepth` k (64, or a whole short depth): the pixel groups in turn, the two weight halves in snake order (0 1, 1 0, 0 1), so the half
// loaded last for one group serves the next: per step 3 pixel loads and 4 weight loads for 6 multiplies. Every
// operand must start on a 64-byte boundary (AlignedVector): unaligned tile rows ran at a third of the speed.
// The tile numbers are literal: GCC's intrinsics paste them into the instruction text.
template <int Groups>
__attribute__((target("amx-tile,amx-int8"))) void microTileAmx(const int8_t* weights, const uint8_t* strip,
                                                              int stepDepth, int depthSteps, int32_t* tile) {
  static_assert(Groups >= 1 && Groups <= 3, "a strip is 3 groups of 16 pixels");
  const size_t stepBytes = static_cast<size_t>(kInt8AmxTileRows * stepDepth);
  const size_t halfBytes = stepBytes / 2;
  const size_t stripStepBytes = static_cast<size_t>(stepDepth / kInt8DepthStep) * kAmxStripQuadBytes;
  constexpr size_t pitch = kInt8TileColumns * sizeof(int32_t);
  int32_t* const secondHalf = tile + 16 * kInt8TileColumns;
  _tile_zero(0);
  _tile_zero(3);
  if constexpr (Groups > 1) {
    _tile_zero(1);
    _tile_zero(4);
  }
  if constexpr (Groups > 2) {
    _tile_zero(2);
    _tile_zero(5);
  }
  for (int step = 0; step < depthSteps; ++step) {
    const int8_t* first = weights + step * stepBytes;
    const int8_t* second = first + halfBytes;
    const uint8_t* quads = strip + step * stripStepBytes;
    _tile_loadd(7, quads, kAmxStripQuadBytes);
    _tile_loadd(6, first, stepDepth);
    _tile_dpbsud(0, 6, 7);
    _tile_loadd(6, second, stepDepth);
    _tile_dpbsud(3, 6, 7);
    if constexpr (Groups > 1) {
      _tile_loadd(7, quads + 64, kAmxStripQuadBytes);
      _tile_dpbsud(4, 6, 7);
      _tile_loadd(6, first, stepDepth);
      _tile_dpbsud(1, 6, 7);
    }
    if constexpr (Groups > 2) {
      _tile_loadd(7, quads + 128, kAmxStripQuadBytes);
      _tile_dpbsud(2, 6, 7);
      _tile_loadd(6, second, stepDepth);
      _tile_dpbsud(5, 6, 7);
    }
  }
  _tile_stored(0, tile, pitch);
  _tile_stored(3, secondHalf, pitch);
  if constexpr (Groups > 1) {
    _tile_stored(1, tile + 16, pitch);
    _tile_stored(4, secondHalf + 16, pitch);
  }
  if constexpr (Groups > 2) {
    _tile_stored(2, tile + 32, pitch);
    _tile_stored(5, secondHalf + 32, pitch);
  }
}
#endif

// AVX2 has no exact byte dot product: vpmaddubsw saturates its 16-bit pair sums (255 * 127 * 2 > 32767). Bytes
// are widened to 16 bits instead and multiplied exactly by vpmaddwd, two k values per 32-bit lane: the strip's
// 32-bit column lanes k0 k1 k2 k3 split into (k0, k2) by a mask and (k1, k3) by a shift, against the weight
// pairs (w0, w2) and (w1, w3) packed for this kernel. A pass covers 4 rows x 16 columns (8 accumulators, 4 split
// strip vectors, 2 weight pairs: 14 of the 16 registers); 6 passes cover the 8 x 48 tile.
constexpr int kAvx2PassRows = 4;
constexpr int kAvx2PassColumns = 16;

__attribute__((target("avx2"))) void microTileAvx2(const int16_t* weights, const uint8_t* strip, int depthQuads,
                                                   int32_t* tile) {
  const __m256i lowBytes = _mm256_set1_epi16(0x00FF);
  for (int firstRow = 0; firstRow < kInt8VectorTileRows; firstRow += kAvx2PassRows) {
    for (int firstColumn = 0; firstColumn < kInt8TileColumns; firstColumn += kAvx2PassColumns) {
      __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
      __m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      const uint8_t* columns = strip + firstColumn * 4;
      const int16_t* rows = weights + firstRow * 4;
      for (int q = 0; q < depthQuads; ++q) {
        const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(columns));
        const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(columns + 32));
        const __m256i even0 = _mm256_and_si256(b0, lowBytes);
        const __m256i odd0 = _mm256_srli_epi16(b0, 8);
        const __m256i even1 = _mm256_and_si256(b1, lowBytes);
        const __m256i odd1 = _mm256_srli_epi16(b1, 8);
#define EMOFLEET_AVX2_ROW(r)                                                                        \
  {                                                                                                 \
    int32_t evenPair = 0;                                                                           \
    int32_t oddPair = 0;                                                                            \
    std::memcpy(&evenPair, rows + (r) * 4, sizeof(evenPair));                                       \
    std::memcpy(&oddPair, rows + (r) * 4 + 2, sizeof(oddPair));                                     \
    const __m256i evenWeights = _mm256_set1_epi32(evenPair);                                        \
    const __m256i oddWeights = _mm256_set1_epi32(oddPair);                                          \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(even0, evenWeights));                     \
    c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(even1, evenWeights));                     \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(odd0, oddWeights));                       \
    c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(odd1, oddWeights));                       \
  }
        EMOFLEET_AVX2_ROW(0)
        EMOFLEET_AVX2_ROW(1)
        EMOFLEET_AVX2_ROW(2)
        EMOFLEET_AVX2_ROW(3)
#undef EMOFLEET_AVX2_ROW
        columns += kInt8TileColumns * 4;
        rows += kInt8VectorTileRows * 4;
      }
#define EMOFLEET_AVX2_STORE(r)                                                                              \
  {                                                                                                         \
    int32_t* out = tile + (firstRow + (r)) * kInt8TileColumns + firstColumn;                                \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), c##r##0);                                          \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), c##r##1);                                      \
  }
      EMOFLEET_AVX2_STORE(0)
      EMOFLEET_AVX2_STORE(1)
      EMOFLEET_AVX2_STORE(2)
      EMOFLEET_AVX2_STORE(3)
#undef EMOFLEET_AVX2_STORE
    }
  }
}


#endif

#ifdef EMOFLEET_INT8_VNNI

// 8 rows x `Vectors` x 16 columns: 24 accumulators for a whole strip, fewer for the last strip of a layer whose
// pixels end inside it (13x13 = 169 = 3 x 48 + 25 pixels: the last strip needs 2 vectors, not 3). Named
// accumulators, not an array: GCC kept an array of __m512i on the stack.
template <int Vectors>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void microTileVnni(const int8_t* weights, const uint8_t* strip,
                                                                          int depthQuads, int32_t* tile) {
  static_assert(Vectors >= 1 && Vectors <= 3, "a strip is 3 vectors wide");
  __m512i c00 = _mm512_setzero_si512(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
  __m512i c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
  __m512i c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
  __m512i c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
  for (int q = 0; q < depthQuads; ++q) {
    const __m512i b0 = _mm512_loadu_si512(strip);
    const __m512i b1 = Vectors > 1 ? _mm512_loadu_si512(strip + 64) : _mm512_setzero_si512();
    const __m512i b2 = Vectors > 2 ? _mm512_loadu_si512(strip + 128) : _mm512_setzero_si512();
    // One 4-byte load per row, broadcast straight from memory (vpdpbusd's embedded broadcast): copying the 8
    // rows' quads into a local array first made GCC load them as 64-bit pairs and broadcast from general registers.
#define EMOFLEET_VNNI_ROW(r)                                                      \
  {                                                                               \
    int32_t quad = 0;                                                             \
    std::memcpy(&quad, weights + (r) * 4, sizeof(quad));                          \
    const __m512i a = _mm512_set1_epi32(quad);                                    \
    c##r##0 = _mm512_dpbusd_epi32(c##r##0, b0, a);                                \
    if constexpr (Vectors > 1) c##r##1 = _mm512_dpbusd_epi32(c##r##1, b1, a);     \
    if constexpr (Vectors > 2) c##r##2 = _mm512_dpbusd_epi32(c##r##2, b2, a);     \
  }
    EMOFLEET_VNNI_ROW(0)
    EMOFLEET_VNNI_ROW(1)
    EMOFLEET_VNNI_ROW(2)
    EMOFLEET_VNNI_ROW(3)
    EMOFLEET_VNNI_ROW(4)
    EMOFLEET_VNNI_ROW(5)
    EMOFLEET_VNNI_ROW(6)
    EMOFLEET_VNNI_ROW(7)
#undef EMOFLEET_VNNI_ROW
    weights += kInt8VectorTileRows * 4;
    strip += kInt8TileColumns * 4;
  }
#define EMOFLEET_VNNI_STORE(r)                                                                  \
  _mm512_storeu_si512(tile + (r) * kInt8TileColumns + 0, c##r##0);                              \
  if constexpr (Vectors > 1) _mm512_storeu_si512(tile + (r) * kInt8TileColumns + 16, c##r##1);  \
  if constexpr (Vectors > 2) _mm512_storeu_si512(tile + (r) * kInt8TileColumns + 32, c##r##2);
  EMOFLEET_VNNI_STORE(0)
  EMOFLEET_VNNI_STORE(1)
  EMOFLEET_VNNI_STORE(2)
  EMOFLEET_VNNI_STORE(3)
  EMOFLEET_VNNI_STORE(4)
  EMOFLEET_VNNI_STORE(5)
  EMOFLEET_VNNI_STORE(6)
  EMOFLEET_VNNI_STORE(7)
#undef EMOFLEET_VNNI_STORE
}

#endif

}  // namespace

const char* int8KernelName(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::Portable: return "portable";
    case Int8Kernel::Avx512Vnni: return "avx512-vnni";
    case Int8Kernel::Avx2: return "avx2";
    case Int8Kernel::NeonDotprod: return "neon-dotprod";
    case Int8Kernel::AmxInt8: return "amx-int8";
  }
  return "portable";
}

int int8TileRows(Int8Kernel kernel) { return kernel == Int8Kernel::AmxInt8 ? kInt8AmxTileRows : kInt8VectorTileRows; }

int int8DepthStep(Int8Kernel kernel, int depth) {
  if (kernel != Int8Kernel::AmxInt8) return kInt8DepthStep;
  return std::min(kInt8AmxDepthStep, static_cast<int>(roundUpTo(static_cast<size_t>(depth), kInt8DepthStep)));
}

bool int8KernelAvailable(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::Portable: return true;
    case Int8Kernel::Avx512Vnni: {
#ifdef EMOFLEET_INT8_VNNI
      static const bool vnni = cpuRunsAvx512Vnni(readX86Features());
      return vnni;
#else
      return false;
#endif
    }
    case Int8Kernel::Avx2: {
#ifdef EMOFLEET_INT8_AVX2
      static const bool avx2 = cpuHasAvx2(readX86Features());
      return avx2;
#else
      return false;
#endif
    }
    case Int8Kernel::NeonDotprod: {
#ifdef EMOFLEET_INT8_NEON_DOTPROD
      static const bool dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
      return dotprod;
#else
      return false;
#endif
    }
    case Int8Kernel::AmxInt8: {
#ifdef EMOFLEET_INT8_AMX
      static const bool amx = cpuRunsAmxInt8(readX86Features());
      return amx;
#else
      return false;
#endif
    }
  }
  return false;
}

Int8Kernel detectInt8Kernel() {
  const Int8Kernel fastestFirst[] = {Int8Kernel::AmxInt8, Int8Kernel::Avx512Vnni, Int8Kernel::NeonDotprod,
                                     Int8Kernel::Avx2, Int8Kernel::Portable};
  const char* forced = std::getenv("EMOFLEET_INT8_KERNEL");
  for (Int8Kernel kernel : fastestFirst) {
    if (!int8KernelAvailable(kernel)) continue;
    if (forced == nullptr || *forced == '\0' || std::string(forced) == int8KernelName(kernel)) return kernel;
  }
  std::string available;
  for (Int8Kernel kernel : fastestFirst) {
    if (int8KernelAvailable(kernel)) available += std::string(available.empty() ? "" : ", ") + int8KernelName(kernel);
  }
  throw DetectorError(ErrorCode::BadArgument, std::string("EMOFLEET_INT8_KERNEL=") + forced +
                                                  " is not a kernel this CPU runs (available: " + available + ")");
}

PackedInt8Weights packInt8Weights(const int8_t* rowMajor, int rows, int depth, Int8Kernel kernel) {
  PackedInt8Weights packed;
  packed.kernel = kernel;
  packed.rows = rows;
  packed.depth = depth;
  packed.depthStep = int8DepthStep(kernel, depth);
  packed.paddedDepth = static_cast<int>(roundUpTo(static_cast<size_t>(depth), static_cast<size_t>(packed.depthStep)));
  packed.tileRows = int8TileRows(kernel);
  packed.rowBlocks = (rows + packed.tileRows - 1) / packed.tileRows;
  const size_t values = static_cast<size_t>(packed.rowBlocks) * packed.blockValues();
  const bool amx = kernel == Int8Kernel::AmxInt8;
  // Position of k's value inside a row's quad: k0 k1 k2 k3, or k0 k2 k1 k3 for the AVX2 pairs.
  const bool pairs = kernel == Int8Kernel::Avx2;
  const int slotOf[kInt8DepthStep] = {0, pairs ? 2 : 1, pairs ? 1 : 2, 3};
  // Where weight (r, k) of a block goes, from the block's start.
  const auto offsetInBlock = [&](int r, int k) -> size_t {
    if (amx) {
      const int step = packed.depthStep;
      return static_cast<size_t>(k / step) * kInt8AmxTileRows * static_cast<size_t>(step) + static_cast<size_t>(r * step + k % step);
    }
    return static_cast<size_t>(((k / kInt8DepthStep) * packed.tileRows + r) * kInt8DepthStep + slotOf[k % kInt8DepthStep]);
  };
  if (pairs) {
    packed.pairs.assign(values, 0);
  } else {
    packed.bytes.assign(values, 0);
  }
  for (int row = 0; row < rows; ++row) {
    const size_t blockStart = static_cast<size_t>(row / packed.tileRows) * packed.blockValues();
    const int r = row % packed.tileRows;
    for (int k = 0; k < depth; ++k) {
      const int8_t value = rowMajor[static_cast<size_t>(row) * static_cast<size_t>(depth) + static_cast<size_t>(k)];
      const size_t at = blockStart + offsetInBlock(r, k);
      if (pairs) {
        packed.pairs[at] = value;
      } else {
        packed.bytes[at] = value;
      }
    }
  }
  return packed;
}

void int8MicroTile(const PackedInt8Weights& weights, int block, const uint8_t* strip, int columns, int32_t* tile) {
  const size_t offset = static_cast<size_t>(block) * weights.blockValues();
  const int quads = weights.paddedDepth / kInt8DepthStep;
  switch (weights.kernel) {
    case Int8Kernel::AmxInt8: {
#ifdef EMOFLEET_INT8_AMX
      const int step = weights.depthStep;
      const int steps = weights.paddedDepth / step;
      if (columns <= 16) {
        microTileAmx<1>(weights.bytes.data() + offset, strip, step, steps, tile);
      } else if (columns <= 32) {
        microTileAmx<2>(weights.bytes.data() + offset, strip, step, steps, tile);
      } else {
        microTileAmx<3>(weights.bytes.data() + offset, strip, step, steps, tile);
      }
      return;
#else
      break;
#endif
    }
    case Int8Kernel::Portable: microTilePortable(weights.bytes.data() + offset, strip, quads, tile); return;
    case Int8Kernel::Avx512Vnni:
#ifdef EMOFLEET_INT8_VNNI
      if (columns <= 16) {
        microTileVnni<1>(weights.bytes.data() + offset, strip, quads, tile);
      } else if (columns <= 32) {
        microTileVnni<2>(weights.bytes.data() + offset, strip, quads, tile);
      } else {
        microTileVnni<3>(weights.bytes.data() + offset, strip, quads, tile);
      }
      return;
#else
      break;
#endif
    case Int8Kernel::Avx2:
#ifdef EMOFLEET_INT8_AVX2
      microTileAvx2(weights.pairs.data() + offset, strip, quads, tile);
      return;
#else
      break;
#endif
    case Int8Kernel::NeonDotprod:
#ifdef EMOFLEET_INT8_NEON_DOTPROD
      microTileNeonDotprod(weights.bytes.data() + offset, strip, quads, tile);
      return;
#else
      break;
#endif
  }
  throw DetectorError(ErrorCode::Unsupported,
                      std::string("int8 kernel ") + int8KernelName(weights.kernel) + " is not compiled into this build");
}

Int8TileScope::Int8TileScope(const PackedInt8Weights& weights) {
#ifdef EMOFLEET_INT8_AMX
  if (weights.kernel == Int8Kernel::AmxInt8) {
    loadAmxTileConfig(weights.depthStep);
    configured_ = true;
  }
#endif
}

Int8TileScope::~Int8TileScope() {
#ifdef EMOFLEET_INT8_AMX
  if (configured_) releaseAmxTiles();
#endif
}

}  // namespace emofleet
