// Folding darknet's inference-time batch norm into the preceding layer's weights and bias.
#pragma once

#include <cstddef>

namespace emofleet {

/**
 * darknet's CPU epsilon: normalize_cpu computes (x - mean) / (sqrt(variance) + .000001f), so the epsilon is
 * added to the standard deviation, not to the variance. (OpenCV's importer uses 1/sqrt(var + 1e-6); the
 * difference is below 1e-6 relative for variances near 1, larger for tiny variances: darknet is the reference.)
 */
constexpr float kDarknetBatchNormEpsilon = .000001f;

/**
 * For each output channel c: scale = gamma[c] / (sqrt(var[c]) + eps); weights[c, :] *= scale;
 * bias[c] = bias[c] - mean[c] * scale. `weights` holds `channels` rows of `perChannel` floats.
 */
void foldBatchNorm(float* weights, float* bias, const float* gamma, const float* mean, const float* variance,
                   size_t channels, size_t perChannel);

}  // namespace emofleet
