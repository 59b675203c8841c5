#include "sgemm_peak.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "../thread_pool.hpp"
#include "sgemm.hpp"

namespace emofleet {

double measureSgemmPeakGflops(int threads) {
  const int m = 512;
  const int n = 1024;
  const int k = 1024;
  const size_t workers = static_cast<size_t>(std::max(1, threads));
  std::vector<float> a(static_cast<size_t>(m) * k, .5f);
  std::vector<float> b(static_cast<size_t>(k) * n * workers, .25f);
  std::vector<float> c(static_cast<size_t>(m) * n * workers);
  ThreadPool pool(static_cast<int>(workers));
  useSingleThreadedBlas();
  double best = 0;
  for (int repeat = 0; repeat < 5; ++repeat) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallelFor(workers, [&](size_t t, int) {
      sgemm(m, n, k, a.data(), k, b.data() + t * static_cast<size_t>(k) * n, n,
            c.data() + t * static_cast<size_t>(m) * n, n);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * m * n * k * static_cast<double>(workers) / seconds / 1e9);
  }
  return best;
}

}  // namespace emofleet
