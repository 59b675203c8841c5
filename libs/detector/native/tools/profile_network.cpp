// Times a darknet cfg on seeded random weights with the CPU engine, per layer and end to end, and measures
// this machine's single-precision GEMM peak for comparison. Used to tune the compute core.
//   profile_network <cfg> [threads] [fuse 0|1] [iterations] [winograd auto|off|f2|f4] [precision fp32|int8]
// int8 quantises every layer that can run in int8, with one made-up input scale (speed does not depend on it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../core/cpu_engine.hpp"
#include "../core/kernels/quantized_convolution.hpp"
#include "../core/kernels/sgemm_peak.hpp"
#include "../test/test_networks.hpp"

using namespace emofleet;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: profile_network <cfg> [threads] [fuse 0|1] [iterations] [winograd auto|off|f2|f4] [precision fp32|int8]\n");
    return 2;
  }
  std::ifstream file(argv[1]);
  std::stringstream text;
  text << file.rdbuf();
  const int threads = argc > 2 ? std::atoi(argv[2]) : 0;
  const bool fuse = argc > 3 ? std::atoi(argv[3]) != 0 : true;
  const int iterations = argc > 4 ? std::atoi(argv[4]) : 10;
  const std::string mode = argc > 5 ? argv[5] : "auto";
  const WinogradMode winograd = mode == "off" ? WinogradMode::Off
                                : mode == "f2" ? WinogradMode::F2
                                : mode == "f4" ? WinogradMode::F4
                                               : WinogradMode::Auto;
  const std::string precision = argc > 6 ? argv[6] : "fp32";
  const NetworkSpec spec = parseNetworkCfg(text.str());
  const std::vector<uint8_t> weights = emofleet_test::randomWeights(spec, 1);
  std::vector<Int8LayerChoice> int8Layers;
  if (precision == "int8") {
    for (int layer : int8CapableLayers(spec, spec.layers.size())) {
      Int8LayerChoice choice;
      choice.layer = layer;
      choice.inputScale = 1.f / 64.f;
      int8Layers.push_back(choice);
    }
  }
  CpuEngine engine(spec, loadWeights(spec, weights.data(), weights.size()), EngineOptions{threads, fuse, int8Layers, winograd});
  const std::vector<float> input = emofleet_test::randomTensor(spec.input.elements(), 2, 0.f, 1.f);
  engine.infer(input.data());
  std::vector<double> times;
  std::vector<std::vector<double>> perLayer(engine.executedLayers());
  std::vector<double> layerSeconds;
  for (int i = 0; i < iterations; ++i) {
    const auto start = Clock::now();
    engine.infer(input.data());
    times.push_back(secondsSince(start));
    engine.inferTimed(input.data(), layerSeconds);
    for (size_t layer = 0; layer < layerSeconds.size(); ++layer) perLayer[layer].push_back(layerSeconds[layer]);
  }
  std::sort(times.begin(), times.end());
  double flops = 0;
  for (const LayerSpec& layer : spec.layers) flops += layer.flops();
  const double median = times[times.size() / 2];
  std::printf("%s %s threads=%d fuse=%d winograd=%s median %.2f ms (%.1f FPS), fastest %.2f ms, %.1f GFLOP/s, activations %.1f MB (unplanned %.1f MB)\n",
              argv[1], precision.c_str(), engine.threads(), fuse, mode.c_str(), median * 1e3, 1 / median, times.front() * 1e3, flops / median / 1e9,
              engine.activationBytes() / 1e6, engine.unplannedActivationBytes() / 1e6);
  const std::vector<std::pair<int, int>> winogradLayers = engine.winogradLayers();
  const std::vector<int> directLayers = engine.directLayers();
  const std::vector<int> pointwiseLayers = engine.pointwiseLayers();
  const std::vector<int> int8Indices = engine.int8LayerIndices();
  const std::vector<int> byteOutputs = engine.byteOutputLayers();
  std::printf("layer  kind           output           GFLOP   median ms  GFLOP/s  kernel\n");
  for (size_t layer = 0; layer < perLayer.size(); ++layer) {
    std::vector<double>& samples = perLayer[layer];
    std::sort(samples.begin(), samples.end());
    const double seconds = samples[samples.size() / 2];
    const LayerSpec& layerSpec = spec.layers[layer];
    std::string kernel = "";
    for (const auto& entry : winogradLayers) {
      if (entry.first == static_cast<int>(layer)) kernel = "F" + std::to_string(entry.second);
    }
    if (std::find(directLayers.begin(), directLayers.end(), static_cast<int>(layer)) != directLayers.end()) kernel = "direct";
    if (std::find(pointwiseLayers.begin(), pointwiseLayers.end(), static_cast<int>(layer)) != pointwiseLayers.end()) kernel = "pointwise";
    if (std::find(int8Indices.begin(), int8Indices.end(), static_cast<int>(layer)) != int8Indices.end()) kernel = "int8";
    if (kernel.empty() && layerSpec.kind == LayerKind::Convolutional) kernel = "im2col";
    if (std::find(byteOutputs.begin(), byteOutputs.end(), static_cast<int>(layer)) != byteOutputs.end()) kernel += " (uint8 out)";
    std::printf("%5zu  %-13s  %4dx%4dx%4d  %6.3f  %9.3f  %7.1f  %s\n", layer, layerKindName(layerSpec.kind),
                layerSpec.output.channels, layerSpec.output.height, layerSpec.output.width, layerSpec.flops() / 1e9,
                seconds * 1e3, layerSpec.flops() / seconds / 1e9, kernel.c_str());
  }
  std::printf("sgemm peak (%d threads, 512x1024x1024 per thread): %.1f GFLOP/s\n", engine.threads(),
              measureSgemmPeakGflops(engine.threads()));
  return 0;
}
