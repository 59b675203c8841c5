// Measures what this machine's SGEMM reaches on a large, cache-friendly problem: the ceiling the
// benchmark compares achieved convolution GFLOP/s against.
#pragma once

namespace emofleet {

/** Best of five runs of one 512x1024x1024 SGEMM per thread, all threads at once; GFLOP/s. */
double measureSgemmPeakGflops(int threads);

}  // namespace emofleet
