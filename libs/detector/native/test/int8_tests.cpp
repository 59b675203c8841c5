// INT8 convolution: the VNNI and portable kernels give identical integers; a quantised layer equals a direct
// integer convolution with the same quantisation; whole networks stay close to FP32; bad plans are refused.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "../core/cpu_engine.hpp"
#include "../core/detector_error.hpp"
#include "../core/kernels/activation.hpp"
#include "../core/kernels/int8_gemm.hpp"
#include "../core/kernels/quantized_convolution.hpp"
#include "test_harness.hpp"
#include "test_networks.hpp"

using namespace emofleet;
using namespace emofleet_test;

namespace {

std::vector<Int8Kernel> availableKernels() {
  std::vector<Int8Kernel> kernels{Int8Kernel::Portable};
  if (int8KernelAvailable(Int8Kernel::AmxInt8)) kernels.push_back(Int8Kernel::AmxInt8);
  if (int8KernelAvailable(Int8Kernel::Avx512Vnni)) kernels.push_back(Int8Kernel::Avx512Vnni);
  if (int8KernelAvailable(Int8Kernel::Avx2)) kernels.push_back(Int8Kernel::Avx2);
  if (int8KernelAvailable(Int8Kernel::NeonDotprod)) kernels.push_back(Int8Kernel::NeonDotprod);
  return kernels;
}

/** Asymmetric uint8 range [min(0, low), max(0, high)] of a tensor, the simplest calibration. */
Int8LayerChoice minMaxChoice(int layer, const std::vector<float>& tensor) {
  float low = 0;
  float high = 0;
  for (float v : tensor) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  Int8LayerChoice choice;
  choice.layer = layer;
  choice.inputScale = high > low ? (high - low) / 255.f : 1.f;
  choice.inputZeroPoint = static_cast<int>(std::lround(-low / choice.inputScale));
  return choice;
}

// The quantised layer written as the definition: integer convolution of (q_x - zp) and per-channel q_w.
std::vector<float> directInt8Convolution(const LayerSpec& layer, const LayerParameters& params,
                                         const Int8LayerChoice& choice, const std::vector<float>& input) {
  const ConvolutionParams& p = layer.convolution;
  const Shape in = layer.input;
  const Shape out = layer.output;
  const int depth = in.channels * p.size * p.size;
  std::vector<int> qx(input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    qx[i] = quantizeToUint8(input[i], 1.f / choice.inputScale, static_cast<float>(choice.inputZeroPoint)) - choice.inputZeroPoint;
  }
  std::vector<float> result(out.elements());
  for (int f = 0; f < p.filters; ++f) {
    const float* w = params.weights.data() + static_cast<size_t>(f) * static_cast<size_t>(depth);
    float largest = 0;
    for (int k = 0; k < depth; ++k) largest = std::max(largest, std::fabs(w[k]));
    const float scale = largest > 0 ? largest / 127.f : 1.f;
    for (int oy = 0; oy < out.height; ++oy) {
      for (int ox = 0; ox < out.width; ++ox) {
        int32_t sum = 0;
        for (int c = 0; c < in.channels; ++c) {
          for (int ky = 0; ky < p.size; ++ky) {
            for (int kx = 0; kx < p.size; ++kx) {
              const int iy = oy * p.stride - p.padding + ky;
              const int ix = ox * p.stride - p.padding + kx;
              if (iy < 0 || iy >= in.height || ix < 0 || ix >= in.width) continue;
              const int k = (c * p.size + ky) * p.size + kx;
              const int qw = static_cast<int>(std::max(-127.f, std::min(127.f, std::nearbyint(w[k] / scale))));
              sum += qw * qx[(static_cast<size_t>(c) * in.height + iy) * in.width + ix];
            }
          }
        }
        const float value = static_cast<float>(sum) * (choice.inputScale * scale) + params.bias[static_cast<size_t>(f)];
        result[(static_cast<size_t>(f) * out.height + oy) * out.width + ox] = activate(value, p.activation);
      }
    }
  }
  return result;
}

const char* const kInt8Layers = R"(
[net]
width=61
height=37
channels=5
[convolutional]
batch_normalize=1
filters=13
size=3
stride=1
pad=1
activation=leaky
[convolutional]
filters=19
size=3
stride=2
pad=1
activation=relu
[convolutional]
filters=8
size=5
stride=1
padding=1
activation=linear
[convolutional]
batch_normalize=1
filters=21
size=1
stride=1
activation=leaky
)";

// A 3x3 layer with few output pixels (packed whole) and one with many (per-worker panels).
const char* const kInt8Shapes = R"(
[net]
width=160
height=120
channels=6
[convolutional]
batch_normalize=1
filters=24
size=3
stride=1
pad=1
activation=leaky
[maxpool]
size=8
stride=8
[convolutional]
batch_normalize=1
filters=70
size=3
stride=1
pad=1
activation=leaky
)";

// INT8 layers 0, 2, 4, 6 and 8, with a max pool of each kind between them (2x2 stride 2, 2x2 stride 1, 3x3
// stride 2). 0, 2 and 4 hand off uint8 through their pools; 6 is read by a route and 8 is the output: floats.
const char* const kInt8HandOff = R"(
[net]
width=36
height=28
channels=3
[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
batch_normalize=1
filters=16
size=3
stride=1
pad=1
activation=leaky
[maxpool]
size=2
stride=1
[convolutional]
batch_normalize=1
filters=12
size=1
stride=1
activation=relu
[maxpool]
size=3
stride=2
[convolutional]
batch_normalize=1
filters=10
size=3
stride=1
pad=1
activation=leaky
[route]
layers=-1
[convolutional]
filters=9
size=1
stride=1
activation=linear
)";

}  // namespace

TEST(int8_micro_tile_kernels_compute_identical_integers) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> weight(-127, 127);
  std::uniform_int_distribution<int> activation(0, 255);
  constexpr int rows = kInt8MaxTileRows;  // one AMX block, four blocks of the vector kernels
  for (int quads : {1, 7, 16, 17, 64, 2305}) {
    const int depth = quads * 4;
    // The strip holds quads up to the largest padding (AMX: a multiple of 16); past the depth, the weights are 0.
    const size_t stripQuads = roundUpTo(static_cast<size_t>(quads), kInt8AmxDepthStep / kInt8DepthStep);
    std::vector<int8_t> rowMajor(static_cast<size_t>(rows) * static_cast<size_t>(depth));
    std::vector<uint8_t> strip(stripQuads * kInt8TileColumns * 4);
    for (auto& w : rowMajor) w = static_cast<int8_t>(weight(rng));
    for (auto& a : strip) a = static_cast<uint8_t>(activation(rng));
    // The extremes: every product 255 * 127 or 255 * -127.
    if (quads == 2305) {
      std::fill(strip.begin(), strip.end(), 255);
      for (size_t i = 0; i < rowMajor.size(); ++i) rowMajor[i] = static_cast<int8_t>(i / static_cast<size_t>(depth) % 2 == 0 ? 127 : -127);
    }
    std::vector<int32_t> expected(static_cast<size_t>(rows) * kInt8TileColumns, 0);
    for (int r = 0; r < rows; ++r) {
      for (int j = 0; j < kInt8TileColumns; ++j) {
        for (int k = 0; k < depth; ++k) {
          expected[static_cast<size_t>(r * kInt8TileColumns + j)] +=
              rowMajor[static_cast<size_t>(r * depth + k)] * strip[static_cast<size_t>(((k / 4) * kInt8TileColumns + j) * 4 + k % 4)];
        }
      }
    }
    for (Int8Kernel kernel : availableKernels()) {
      const PackedInt8Weights packed = packInt8Weights(rowMajor.data(), rows, depth, kernel);
      CHECK(packed.tileRows == int8TileRows(kernel));
      CHECK(packed.rowBlocks * packed.tileRows == rows);
      CHECK(packed.paddedDepth % packed.depthStep == 0);
      const Int8TileScope tiles(packed);
      // Whole strips, and the last strip of a layer with 1, 16, 17, 32 or 33 columns left (VNNI and AMX run 1-3
      // groups of 16).
      for (int columns : {kInt8TileColumns, 1, 16, 17, 32, 33}) {
        for (int block = 0; block < packed.rowBlocks; ++block) {
          std::vector<int32_t> tile(static_cast<size_t>(kInt8MaxTileRows) * kInt8TileColumns, -1);
          int8MicroTile(packed, block, strip.data(), columns, tile.data());
          bool same = true;
          for (int r = 0; r < packed.tileRows && same; ++r) {
            for (int j = 0; j < columns && same; ++j) {
              const size_t row = static_cast<size_t>(block * packed.tileRows + r);
              if (tile[static_cast<size_t>(r * kInt8TileColumns + j)] == expected[row * kInt8TileColumns + static_cast<size_t>(j)]) continue;
              same = false;
              recordFailure(__FILE__, __LINE__, std::string(int8KernelName(kernel)) + " differs at quads=" + std::to_string(quads) +
                                                    " columns=" + std::to_string(columns) + " row " + std::to_string(row) +
                                                    " column " + std::to_string(j));
            }
          }
        }
      }
    }
  }
}

TEST(int8_kernel_detection_agrees_with_the_compiler) {
  // Built with -march=native, the compiler's own macros say what this CPU has: run-time detection must agree.
  std::printf("  int8 kernel on this machine: %s\n", int8KernelName(detectInt8Kernel()));
#if defined(__x86_64__) && defined(__AMX_INT8__) && defined(__linux__)
  // AMX also needs Linux to grant the tile state; a kernel that refuses leaves AVX-512 VNNI.
  CHECK(detectInt8Kernel() == Int8Kernel::AmxInt8 || detectInt8Kernel() == Int8Kernel::Avx512Vnni);
#elif defined(__x86_64__) && defined(__AVX512VNNI__)
  CHECK(detectInt8Kernel() == Int8Kernel::Avx512Vnni);
#elif defined(__x86_64__) && defined(__AVX2__)
  CHECK(detectInt8Kernel() == Int8Kernel::Avx2);
#endif
#if defined(__x86_64__) && defined(__AVX2__)
  CHECK(int8KernelAvailable(Int8Kernel::Avx2));
#endif
  // aarch64: sdot only in dotprod builds; a default armv8-a build (Cortex-A57) always runs the portable kernel.
#if defined(__aarch64__) && !defined(__ARM_FEATURE_DOTPROD)
  CHECK(detectInt8Kernel() == Int8Kernel::Portable);
  CHECK(!int8KernelAvailable(Int8Kernel::NeonDotprod));
#endif
  CHECK(int8KernelAvailable(Int8Kernel::Portable));
}

TEST(int8_kernel_can_be_forced_by_name) {
  for (Int8Kernel kernel : availableKernels()) {
    setenv("EMOFLEET_INT8_KERNEL", int8KernelName(kernel), 1);
    CHECK(detectInt8Kernel() == kernel);
  }
  setenv("EMOFLEET_INT8_KERNEL", "sse9", 1);
  CHECK_THROWS_CODE(detectInt8Kernel(), ErrorCode::BadArgument, "EMOFLEET_INT8_KERNEL=sse9 is not a kernel this CPU runs (available: ");
  unsetenv("EMOFLEET_INT8_KERNEL");
  // Unforced, the fastest one runs: portable only where nothing else is available.
  CHECK((detectInt8Kernel() == Int8Kernel::Portable) == (availableKernels().size() == 1));
}

TEST(int8_convolution_equals_direct_integer_convolution) {
  const NetworkSpec spec = parseNetworkCfg(kInt8Layers);
  const std::vector<uint8_t> bytes = randomWeights(spec, 11);
  const LoadedWeights weights = loadWeights(spec, bytes.data(), bytes.size());
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    const LayerSpec& layer = spec.layers[l];
    const std::vector<float> input = randomTensor(layer.input.elements(), 100 + static_cast<uint32_t>(l), -.4f, 1.3f);
    const Int8LayerChoice choice = minMaxChoice(static_cast<int>(l), input);
    const std::vector<float> expected = directInt8Convolution(layer, weights.layers[l], choice, input);
    for (Int8Kernel kernel : availableKernels()) {
      const QuantizedConvolution conv(layer, weights.layers[l], choice, kernel);
      for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        std::vector<uint8_t> scratch(conv.scratchBytes(threads));
        std::vector<float> output(layer.output.elements(), -99.f);
        conv.run(input.data(), output.data(), scratch.data(), pool);
        double worst = 0;
        for (size_t i = 0; i < output.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(output[i] - expected[i])));
        if (!(worst <= 1e-5)) {
          recordFailure(__FILE__, __LINE__, "layer " + std::to_string(l) + " " + int8KernelName(kernel) + " threads=" +
                                                std::to_string(threads) + " max diff " + std::to_string(worst));
        }
      }
    }
  }
}

TEST(int8_kernels_give_identical_layers_per_epilogue_whole_and_panelled) {
  const NetworkSpec spec = parseNetworkCfg(kInt8Shapes);
  const std::vector<uint8_t> bytes = randomWeights(spec, 5);
  const LoadedWeights weights = loadWeights(spec, bytes.data(), bytes.size());
  for (size_t l : {size_t(0), size_t(2)}) {
    const LayerSpec& layer = spec.layers[l];
    const std::vector<float> input = randomTensor(layer.input.elements(), 9, -.2f, 2.f);
    const Int8LayerChoice choice = minMaxChoice(static_cast<int>(l), input);
    // Per epilogue implementation (int8_epilogue.hpp): its outputs, identical for every kernel and thread count.
    std::vector<std::pair<std::string, std::vector<float>>> outputs;
    for (Int8Kernel kernel : availableKernels()) {
      for (int threads : {1, 2, 3}) {
        const QuantizedConvolution conv(layer, weights.layers[l], choice, kernel);
        ThreadPool pool(threads);
        std::vector<uint8_t> scratch(conv.scratchBytes(threads));
        std::vector<float> output(layer.output.elements());
        conv.run(input.data(), output.data(), scratch.data(), pool);
        const std::string epilogue = conv.epilogue().name();
        const auto same = std::find_if(outputs.begin(), outputs.end(), [&](const auto& o) { return o.first == epilogue; });
        if (same == outputs.end()) {
          outputs.emplace_back(epilogue, output);
        } else {
          CHECK(output == same->second);
        }
      }
    }
    // Across implementations only the affine's rounding may differ (FMA or not): a few float ulps.
    for (const auto& other : outputs) {
      for (size_t i = 0; i < other.second.size(); ++i) {
        const float a = other.second[i];
        const float b = outputs.front().second[i];
        if (std::fabs(a - b) <= 1e-6f * std::max(1.f, std::fabs(b))) continue;
        recordFailure(__FILE__, __LINE__, "epilogues " + other.first + " and " + outputs.front().first + " differ at " + std::to_string(i) +
                                              ": " + std::to_string(a) + " vs " + std::to_string(b));
        break;
      }
    }
  }
}

TEST(int8_network_stays_close_to_fp32) {
  const NetworkSpec spec = parseNetworkCfg(kInt8Shapes);
  const std::vector<uint8_t> bytes = randomWeights(spec, 21);
  const std::vector<float> input = randomTensor(spec.input.elements(), 22, 0.f, 1.f);
  CpuEngine reference(spec, loadWeights(spec, bytes.data(), bytes.size()), EngineOptions{2, true});
  std::vector<std::vector<float>> taps;
  reference.inferWithTaps(input.data(), {0, 1, 2}, taps);
  EngineOptions options{2, true};
  options.int8Layers = {minMaxChoice(0, input), minMaxChoice(2, taps[1])};
  CpuEngine quantized(spec, loadWeights(spec, bytes.data(), bytes.size()), options);
  CHECK(quantized.int8LayerIndices() == std::vector<int>({0, 2}));
  const float* out = quantized.infer(input.data());
  // Signal-to-quantisation-noise ratio of the final output: 8-bit inputs and weights give roughly 30-40 dB.
  double signal = 0;
  double noise = 0;
  for (size_t i = 0; i < taps[2].size(); ++i) {
    signal += static_cast<double>(taps[2][i]) * taps[2][i];
    noise += (static_cast<double>(out[i]) - taps[2][i]) * (static_cast<double>(out[i]) - taps[2][i]);
  }
  const double sqnr = 10 * std::log10(signal / std::max(noise, 1e-30));
  std::printf("  int8 network SQNR %.1f dB\n", sqnr);
  CHECK(sqnr > 25);
  CHECK(sqnr < 80);  // it really ran in int8
}

TEST(int8_plan_errors_name_the_layer) {
  const NetworkSpec spec = parseNetworkCfg(kInt8Shapes);
  const std::vector<uint8_t> bytes = randomWeights(spec, 3);
  auto build = [&](std::vector<Int8LayerChoice> layers) {
    EngineOptions options{1, true};
    options.int8Layers = std::move(layers);
    CpuEngine engine(spec, loadWeights(spec, bytes.data(), bytes.size()), options);
  };
  Int8LayerChoice pool;
  pool.layer = 1;
  CHECK_THROWS_CODE(build({pool}), ErrorCode::BadArgument, "layer 1 (cfg line 13): is maxpool");
  Int8LayerChoice outside;
  outside.layer = 3;
  CHECK_THROWS_CODE(build({outside}), ErrorCode::BadArgument, "layer 3 is outside 0..2");
  Int8LayerChoice badScale;
  badScale.layer = 0;
  badScale.inputScale = 0;
  CHECK_THROWS_CODE(build({badScale}), ErrorCode::BadArgument, "input scale must be a positive finite number");
  Int8LayerChoice badZero;
  badZero.layer = 2;
  badZero.inputZeroPoint = 256;
  CHECK_THROWS_CODE(build({badZero}), ErrorCode::BadArgument, "zero point must be 0..255");
  Int8LayerChoice twice;
  twice.layer = 0;
  CHECK_THROWS_CODE(build({twice, twice}), ErrorCode::BadArgument, "layer 0 is listed twice");
  const NetworkSpec grouped = parseNetworkCfg("[net]\nwidth=8\nheight=8\nchannels=4\n[convolutional]\nfilters=4\nsize=3\ngroups=4\npad=1\nactivation=leaky\n");
  const std::vector<uint8_t> groupedBytes = randomWeights(grouped, 1);
  EngineOptions options{1, true};
  Int8LayerChoice depthwise;
  depthwise.layer = 0;
  options.int8Layers = {depthwise};
  CHECK_THROWS_CODE(CpuEngine(grouped, loadWeights(grouped, groupedBytes.data(), groupedBytes.size()), options),
                    ErrorCode::BadArgument, "groups=4) stay fp32");
}

TEST(int8_layers_hand_off_uint8_with_the_results_of_float_hand_off) {
  const NetworkSpec spec = parseNetworkCfg(kInt8HandOff);
  const std::vector<uint8_t> bytes = randomWeights(spec, 31);
  const std::vector<float> input = randomTensor(spec.input.elements(), 32, 0.f, 1.f);
  CpuEngine reference(spec, loadWeights(spec, bytes.data(), bytes.size()), EngineOptions{2, true});
  std::vector<std::vector<float>> taps;
  reference.inferWithTaps(input.data(), {1, 3, 5, 7}, taps);
  EngineOptions options{2, true};
  options.int8Layers = {minMaxChoice(0, input), minMaxChoice(2, taps[0]), minMaxChoice(4, taps[1]),
                        minMaxChoice(6, taps[2]), minMaxChoice(8, taps[3])};
  CpuEngine quantized(spec, loadWeights(spec, bytes.data(), bytes.size()), options);
  CHECK(quantized.byteOutputLayers() == std::vector<int>({0, 1, 2, 3, 4, 5}));
  const size_t outputs = spec.layers[8].output.elements();
  const float* handedOff = quantized.infer(input.data());
  const std::vector<float> byteRun(handedOff, handedOff + outputs);
  std::vector<float> floatRun;
  quantized.inferWithTap(input.data(), 8, floatRun);  // taps run every layer with float outputs
  CHECK(byteRun == floatRun);
  CHECK(std::any_of(byteRun.begin(), byteRun.end(), [](float v) { return v != 0.f; }));

  options.fuse = false;  // the darknet-style reference path keeps float outputs everywhere
  CpuEngine unfused(spec, loadWeights(spec, bytes.data(), bytes.size()), options);
  CHECK(unfused.byteOutputLayers().empty());
}
