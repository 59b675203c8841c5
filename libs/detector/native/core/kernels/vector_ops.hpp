// The vector type and the load / store / broadcast helpers shared by the own kernels (packed_gemm.cpp,
// direct_convolution.cpp): GCC vector extensions of kGemmVectorFloats floats, no intrinsics, so one source
// builds as AVX-512, AVX2, SSE or NEON.
#pragma once

#include <cstring>

#include "packed_gemm.hpp"

namespace emofleet {
namespace vector_ops {

typedef float Vec __attribute__((vector_size(kGemmVectorFloats * sizeof(float))));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof(Vec));
  return v;
}

inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof(Vec)); }

// s - 0 is s for every s (also -0), so this folds to a plain broadcast.
inline Vec broadcast(float s) { return s - Vec{}; }

}  // namespace vector_ops
}  // namespace emofleet
