// Per-layer timing of the 3x3 stride-1 convolutions of a darknet cfg: im2col + SGEMM against Winograd F(2x2,3x3)
// and F(4x4,3x3), interleaved, least process CPU time of N runs each (CPU time, not wall time: on a machine
// loaded by other work, preemption inflates wall time; the pool's idle threads sleep, so CPU time is the work).
// Used to set winogradTileFor's rule.
//   profile_winograd <cfg> [threads] [runs]
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "../core/kernels/convolution.hpp"
#include "../core/kernels/winograd_convolution.hpp"
#include "../test/test_networks.hpp"

using namespace emofleet;

namespace {

double processCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: profile_winograd <cfg> [threads] [runs]\n");
    return 2;
  }
  std::ifstream file(argv[1]);
  std::stringstream text;
  text << file.rdbuf();
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  const NetworkSpec spec = parseNetworkCfg(text.str());
  ThreadPool pool(threads);
  std::printf("layer  input          filters  im2col cpu ms  F2 cpu ms  F4 cpu ms  im2col/F2  im2col/F4  auto\n");
  for (const LayerSpec& layer : spec.layers) {
    if (!winogradApplies(layer)) continue;
    const size_t weightsCount = static_cast<size_t>(layer.output.channels) * static_cast<size_t>(layer.input.channels) * 9;
    LayerParameters params{emofleet_test::randomTensor(weightsCount, 3, -.1f, .1f),
                           emofleet_test::randomTensor(static_cast<size_t>(layer.output.channels), 4, -.1f, .1f)};
    const std::vector<float> input = emofleet_test::randomTensor(layer.input.elements(), 5, 0.f, 1.f);
    std::vector<float> output(layer.output.elements());
    const WinogradConvolution f2(layer, params, 2);
    const WinogradConvolution f4(layer, params, 4);
    std::vector<float> scratch(std::max({convolutionScratchFloats(layer, true, threads), f2.scratchFloats(), f4.scratchFloats()}));
    double best[3] = {1e9, 1e9, 1e9};
    for (int r = 0; r < runs; ++r) {
      for (int variant = 0; variant < 3; ++variant) {
        const double start = processCpuSeconds();
        if (variant == 0) runConvolution(layer, params, input.data(), output.data(), scratch.data(), pool, true);
        if (variant == 1) f2.run(input.data(), output.data(), scratch.data(), pool);
        if (variant == 2) f4.run(input.data(), output.data(), scratch.data(), pool);
        best[variant] = std::min(best[variant], processCpuSeconds() - start);
      }
    }
    std::printf("%5d  %4dx%3dx%3d  %7d  %13.2f  %9.2f  %9.2f  %9.2f  %9.2f  F%d\n", layer.index, layer.input.channels,
                layer.input.height, layer.input.width, layer.output.channels, best[0] * 1e3, best[1] * 1e3,
                best[2] * 1e3, best[0] / best[1], best[0] / best[2], winogradTileFor(layer, WinogradMode::Auto));
  }
  return 0;
}
