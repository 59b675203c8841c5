// Per-layer timing of the dense stride-1 convolutions of a darknet cfg: im2col + SGEMM against the direct
// convolution (DirectConvolution) and, for 3x3 layers, Winograd F(2x2,3x3) and F(4x4,3x3); interleaved, least
// process CPU time of N runs each (CPU time, not wall time: on a machine loaded by other work, preemption
// inflates wall time; the pool's idle threads sleep, so CPU time is the work). Used to set the rules of
// directConvolutionFor and winogradTileFor; `auto` is what the engine picks (direct, F2, F4 or im2col).
//   profile_winograd <cfg> [threads] [runs]
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "../core/kernels/convolution.hpp"
#include "../core/kernels/direct_convolution.hpp"
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
  std::printf("layer  input          filters  size  im2col ms  direct ms  F2 ms   F4 ms   im2col/direct  im2col/F2  im2col/F4  auto\n");
  for (const LayerSpec& layer : spec.layers) {
    const ConvolutionParams& p = layer.convolution;
    if (layer.kind != LayerKind::Convolutional || p.groups != 1 || p.stride != 1) continue;
    const size_t weightsCount = static_cast<size_t>(layer.output.channels) * static_cast<size_t>(layer.input.channels) *
                                static_cast<size_t>(p.size * p.size);
    LayerParameters params{emofleet_test::randomTensor(weightsCount, 3, -.1f, .1f),
                           emofleet_test::randomTensor(static_cast<size_t>(layer.output.channels), 4, -.1f, .1f)};
    const std::vector<float> input = emofleet_test::randomTensor(layer.input.elements(), 5, 0.f, 1.f);
    std::vector<float> output(layer.output.elements());
    const bool winograd = winogradApplies(layer);
    std::unique_ptr<WinogradConvolution> f2;
    std::unique_ptr<WinogradConvolution> f4;
    if (winograd) {
      f2 = std::make_unique<WinogradConvolution>(layer, params, 2);
      f4 = std::make_unique<WinogradConvolution>(layer, params, 4);
    }
    const DirectConvolution direct(layer, params);
    std::vector<float> scratch(std::max({convolutionScratchFloats(layer, true, threads), direct.scratchFloats(threads),
                                         f2 ? f2->scratchFloats() : 0, f4 ? f4->scratchFloats() : 0}));
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    for (int r = 0; r < runs; ++r) {
      for (int variant = 0; variant < (winograd ? 4 : 2); ++variant) {
        const double start = processCpuSeconds();
        if (variant == 0) runConvolution(layer, params, input.data(), output.data(), scratch.data(), pool, true);
        if (variant == 1) direct.run(input.data(), output.data(), scratch.data(), pool);
        if (variant == 2) f2->run(input.data(), output.data(), scratch.data(), pool);
        if (variant == 3) f4->run(input.data(), output.data(), scratch.data(), pool);
        best[variant] = std::min(best[variant], processCpuSeconds() - start);
      }
    }
    const int tile = winogradTileFor(layer, WinogradMode::Auto);
    const char* pick = tile == 2 ? "F2" : tile == 4 ? "F4" : directConvolutionFor(layer) ? "direct" : "im2col";
    std::printf("%5d  %4dx%3dx%3d  %7d  %4d  %9.2f  %9.2f  ", layer.index, layer.input.channels, layer.input.height,
                layer.input.width, layer.output.channels, p.size, best[0] * 1e3, best[1] * 1e3);
    if (winograd) {
      std::printf("%6.2f  %6.2f  %13.2f  %9.2f  %9.2f  %s\n", best[2] * 1e3, best[3] * 1e3, best[0] / best[1],
                  best[0] / best[2], best[0] / best[3], pick);
    } else {
      std::printf("%6s  %6s  %13.2f  %9s  %9s  %s\n", "-", "-", best[0] / best[1], "-", "-", pick);
    }
  }
  return 0;
}
