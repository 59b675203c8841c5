#include "batch_norm_fold.hpp"

#include <cmath>

namespace emofleet {

void foldBatchNorm(float* weights, float* bias, const float* gamma, const float* mean, const float* variance,
                   size_t channels, size_t perChannel) {
  for (size_t c = 0; c < channels; ++c) {
    const float scale = gamma[c] / (std::sqrt(variance[c]) + kDarknetBatchNormEpsilon);
    float* row = weights + c * perChannel;
    for (size_t i = 0; i < perChannel; ++i) row[i] *= scale;
    bias[c] = bias[c] - mean[c] * scale;
  }
}

}  // namespace emofleet
