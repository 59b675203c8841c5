#include "int8_epilogue.hpp"

#include <cmath>
#include <type_traits>

#include "quantized_convolution.hpp"

#if defined(__x86_64__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8))
#define EMOFLEET_EPILOGUE_AVX512 1
// GCC 12's AVX-512 headers initialise their "undefined" operands from themselves, which -Wmaybe-uninitialized
// reports at every inlined use (GCC bug 105593, fixed in GCC 13). The warning is switched off for the header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

namespace emofleet {
namespace {

// One loop per activation, each vectorised by the compiler with `store` inlined into it. `Count` is size_t, or
// WholeStrip for full micro-tile rows, whose constant trip count vectorises without a remainder.
template <typename Count, typename Store>
inline void affineRow(const int32_t* __restrict acc, Count count, const ChannelAffine& a, Activation activation,
                      Store store) {
  const int32_t zeroTerm = a.zeroTerm;
  const float scale = a.scale;
  const float bias = a.bias;
  switch (activation) {
    case Activation::Linear:
      for (size_t j = 0; j < count; ++j) store(j, static_cast<float>(acc[j] - zeroTerm) * scale + bias);
      return;
    case Activation::Leaky:
      for (size_t j = 0; j < count; ++j) {
        const float v = static_cast<float>(acc[j] - zeroTerm) * scale + bias;
        const float scaled = .1f * v;
        store(j, v < scaled ? scaled : v);  // max(v, 0.1 v): see biasActivate (activation.hpp)
      }
      return;
    case Activation::Relu:
      for (size_t j = 0; j < count; ++j) {
        const float v = static_cast<float>(acc[j] - zeroTerm) * scale + bias;
        store(j, v > 0 ? v : 0.f);
      }
      return;
    case Activation::Logistic:
      for (size_t j = 0; j < count; ++j) {
        store(j, 1.f / (1.f + std::exp(-(static_cast<float>(acc[j] - zeroTerm) * scale + bias))));
      }
      return;
  }
}

using WholeStrip = std::integral_constant<size_t, kInt8TileColumns>;

template <typename Store>
inline void affineRowAnyCount(const int32_t* acc, size_t count, const ChannelAffine& a, Activation activation,
                              Store store) {
  if (count == kInt8TileColumns) {
    affineRow(acc, WholeStrip{}, a, activation, store);
  } else {
    affineRow(acc, count, a, activation, store);
  }
}

// A loop of its own, with its bounds and constants in locals: in a lambda, byte stores may alias captured
// values, which were then reloaded after every store and the loop stayed scalar.
void quantizePlain(const float* __restrict src, uint8_t* __restrict dst, size_t count, float inverse, float zeroPoint) {
  for (size_t i = 0; i < count; ++i) dst[i] = quantizeToUint8(src[i], inverse, zeroPoint);
}

#ifdef EMOFLEET_EPILOGUE_AVX512

#define EMOFLEET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

// 16 lanes of the affine and the activation; Logistic never comes here (it stays on the plain loop).
EMOFLEET_AVX512 inline __m512 affine16(__m512i acc, __m512i zeroTerm, __m512 scale, __m512 bias, Activation activation) {
  const __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc, zeroTerm)), scale, bias);
  if (activation == Activation::Leaky) {
    const __m512 scaled = _mm512_mul_ps(_mm512_set1_ps(.1f), v);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, scaled, _CMP_LT_OQ), v, scaled);  // v < scaled ? scaled : v
  }
  if (activation == Activation::Relu) return _mm512_max_ps(v, _mm512_setzero_ps());  // v > 0 ? v : 0
  return v;
}

// quantizeToUint8 on 16 lanes: max(v, 0) and min(v, 255) are its two selects exactly (NaN gives 0), then
// truncation of v + 0.5 (round half up) and the low byte of each lane.
EMOFLEET_AVX512 inline __m128i quantize16(__m512 x, __m512 inverse, __m512 zeroPoint) {
  __m512 v = _mm512_fmadd_ps(x, inverse, zeroPoint);
  v = _mm512_max_ps(v, _mm512_setzero_ps());
  v = _mm512_min_ps(v, _mm512_set1_ps(255.f));
  return _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(_mm512_add_ps(v, _mm512_set1_ps(.5f))));
}

inline __mmask16 tailMask(size_t left) { return static_cast<__mmask16>((1u << left) - 1u); }

EMOFLEET_AVX512 void toFloatsAvx512(const int32_t* acc, size_t count, const ChannelAffine& a, Activation activation,
                                    float* dst) {
  const __m512i zeroTerm = _mm512_set1_epi32(a.zeroTerm);
  const __m512 scale = _mm512_set1_ps(a.scale);
  const __m512 bias = _mm512_set1_ps(a.bias);
  size_t j = 0;
  for (; j + 16 <= count; j += 16) {
    _mm512_storeu_ps(dst + j, affine16(_mm512_loadu_si512(acc + j), zeroTerm, scale, bias, activation));
  }
  if (j < count) {
    const __mmask16 mask = tailMask(count - j);
    _mm512_mask_storeu_ps(dst + j, mask, affine16(_mm512_maskz_loadu_epi32(mask, acc + j), zeroTerm, scale, bias, activation));
  }
}

EMOFLEET_AVX512 void toBytesAvx512(const int32_t* acc, size_t count, const ChannelAffine& a, Activation activation,
                                   const ByteQuantization& q, uint8_t* dst) {
  const __m512i zeroTerm = _mm512_set1_epi32(a.zeroTerm);
  const __m512 scale = _mm512_set1_ps(a.scale);
  const __m512 bias = _mm512_set1_ps(a.bias);
  const __m512 inverse = _mm512_set1_ps(q.inverseScale);
  const __m512 zeroPoint = _mm512_set1_ps(q.zeroPoint);
  size_t j = 0;
  for (; j + 16 <= count; j += 16) {
    const __m512 v = affine16(_mm512_loadu_si512(acc + j), zeroTerm, scale, bias, activation);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + j), quantize16(v, inverse, zeroPoint));
  }
  if (j < count) {
    const __mmask16 mask = tailMask(count - j);
    const __m512 v = affine16(_mm512_maskz_loadu_epi32(mask, acc + j), zeroTerm, scale, bias, activation);
    _mm_mask_storeu_epi8(dst + j, mask, quantize16(v, inverse, zeroPoint));
  }
}

EMOFLEET_AVX512 void quantizeAvx512(const float* src, size_t count, const ByteQuantization& q, uint8_t* dst) {
  const __m512 inverse = _mm512_set1_ps(q.inverseScale);
  const __m512 zeroPoint = _mm512_set1_ps(q.zeroPoint);
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), quantize16(_mm512_loadu_ps(src + i), inverse, zeroPoint));
  }
  if (i < count) {
    const __mmask16 mask = tailMask(count - i);
    _mm_mask_storeu_epi8(dst + i, mask, quantize16(_mm512_maskz_loadu_ps(mask, src + i), inverse, zeroPoint));
  }
}

#undef EMOFLEET_AVX512
#endif

}  // namespace

// VNNI and AMX kernels run only where AVX-512 F, BW and VL are (int8KernelAvailable checks them with cpuid and XCR0).
Int8Epilogue::Int8Epilogue(Int8Kernel kernel)
#ifdef EMOFLEET_EPILOGUE_AVX512
    : avx512_(kernel == Int8Kernel::Avx512Vnni || kernel == Int8Kernel::AmxInt8) {
}
#else
    : avx512_(false) {
}
#endif

void Int8Epilogue::toFloats(const int32_t* acc, size_t count, const ChannelAffine& affine, Activation activation,
                            float* dst) const {
#ifdef EMOFLEET_EPILOGUE_AVX512
  if (avx512_ && activation != Activation::Logistic) {
    toFloatsAvx512(acc, count, affine, activation, dst);
    return;
  }
#endif
  affineRowAnyCount(acc, count, affine, activation, [=](size_t j, float v) { dst[j] = v; });
}

void Int8Epilogue::toBytes(const int32_t* acc, size_t count, const ChannelAffine& affine, Activation activation,
                           const ByteQuantization& quantization, uint8_t* dst) const {
#ifdef EMOFLEET_EPILOGUE_AVX512
  if (avx512_ && activation != Activation::Logistic) {
    toBytesAvx512(acc, count, affine, activation, quantization, dst);
    return;
  }
#endif
  const float inverse = quantization.inverseScale;
  const float zeroPoint = quantization.zeroPoint;
  affineRowAnyCount(acc, count, affine, activation,
                    [=](size_t j, float v) { dst[j] = quantizeToUint8(v, inverse, zeroPoint); });
}

void Int8Epilogue::quantize(const float* src, size_t count, const ByteQuantization& quantization, uint8_t* dst) const {
#ifdef EMOFLEET_EPILOGUE_AVX512
  if (avx512_) {
    quantizeAvx512(src, count, quantization, dst);
    return;
  }
#endif
  quantizePlain(src, dst, count, quantization.inverseScale, quantization.zeroPoint);
}

}  // namespace emofleet
