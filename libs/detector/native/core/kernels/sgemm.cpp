#include "sgemm.hpp"

#include <cblas.h>

extern "C" void openblas_set_num_threads(int threads);
extern "C" char* openblas_get_corename(void);

namespace emofleet {

void sgemm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a, lda, b, ldb, 0.f, c, ldc);
}

void sgemv(int m, int k, const float* a, const float* x, float* y) {
  cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.f, a, k, x, 1, 0.f, y, 1);
}

const char* blasCoreName() { return openblas_get_corename(); }

void useSingleThreadedBlas() { openblas_set_num_threads(1); }

}  // namespace emofleet
