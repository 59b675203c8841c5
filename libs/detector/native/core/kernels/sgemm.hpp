// The single-precision GEMM this build uses (OpenBLAS through CBLAS), row-major.
#pragma once

namespace emofleet {

/** C[M x N] = A[M x K] * B[K x N] (beta = 0), leading dimensions in floats. Single-threaded per call. */
void sgemm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc);

/** y[M] = A[M x K] * x[K]. */
void sgemv(int m, int k, const float* a, const float* x, float* y);

/** The kernel family OpenBLAS picked at load time (e.g. "SkylakeX", "Haswell", "Prescott", "ARMV8"). */
const char* blasCoreName();

/** OpenBLAS must not spawn its own threads: the engine parallelises over tiles and calls it per thread. */
void useSingleThreadedBlas();

}  // namespace emofleet
