// The float side of an INT8 convolution: a micro-tile row's int32 sums dequantised, biased and activated (the CBR
// epilogue), written as floats or requantised to uint8 for the INT8 layer that reads them; and float tensors
// quantised to uint8. Plain C++ loops everywhere, and AVX-512 intrinsics for the kernels that imply AVX-512
// (VNNI, AMX): GCC's own vectors for these loops (256-bit, variable trip counts) spent their time in mask
// bookkeeping and blended every uint8 store into a load of the destination.
//
// The two paths compute the affine the same way but for rounding: the intrinsics always use FMA, the plain loops
// wherever the compiler contracts a * b + c (GCC does at -O2 and up when FMA is enabled, as in the -march=native
// builds the Makefile and binding.gyp make on x86-64; not in EMOFLEET_PORTABLE or sanitizer builds). Within one
// layer every value and its quantisation take one path, so a uint8 hand-off stays exactly the float hand-off.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../network_spec.hpp"
#include "int8_gemm.hpp"

namespace emofleet {

/** One output channel's affine: v = (acc - zeroTerm) * scale + bias, then the activation. */
struct ChannelAffine {
  int32_t zeroTerm = 0;
  float scale = 1;
  float bias = 0;
};

/** uint8 quantisation of floats: quantizeToUint8 (quantized_convolution.hpp) with 1 / scale and the zero point. */
struct ByteQuantization {
  float inverseScale = 1;
  float zeroPoint = 0;
};

/** Which implementation runs the epilogue for a kernel's layers: the AVX-512 one where the kernel implies it. */
class Int8Epilogue {
 public:
  explicit Int8Epilogue(Int8Kernel kernel);

  /** dst[j] = activation((acc[j] - zeroTerm) * scale + bias), j < count. */
  void toFloats(const int32_t* acc, size_t count, const ChannelAffine& affine, Activation activation, float* dst) const;
  /** The same values, quantised: dst[j] = quantizeToUint8(value, inverseScale, zeroPoint). */
  void toBytes(const int32_t* acc, size_t count, const ChannelAffine& affine, Activation activation,
               const ByteQuantization& quantization, uint8_t* dst) const;
  /** dst[i] = quantizeToUint8(src[i], inverseScale, zeroPoint), i < count. */
  void quantize(const float* src, size_t count, const ByteQuantization& quantization, uint8_t* dst) const;

  /** "avx512" or "plain": which implementation runs. */
  const char* name() const { return avx512_ ? "avx512" : "plain"; }

 private:
  bool avx512_;
};

}  // namespace emofleet
