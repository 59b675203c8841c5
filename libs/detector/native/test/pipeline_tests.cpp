// Preprocessing, region decoding, NMS, the activation planner and the Detector facade.
#include <cmath>
#include <thread>

#include "../core/activation_plan.hpp"
#include "../core/detector.hpp"
#include "../core/detector_error.hpp"
#include "../core/frame_preprocessor.hpp"
#include "../core/region_head.hpp"
#include "test_harness.hpp"
#include "test_networks.hpp"

using namespace emofleet;
using namespace emofleet_test;

namespace {

// darknet image.c, written out the long way: load as float CHW, resize_image, letterbox_image (embed).
std::vector<float> darknetLetterbox(const std::vector<uint8_t>& rgb, int w, int h, int netW, int netH) {
  std::vector<float> im(static_cast<size_t>(3 * w * h));
  for (int k = 0; k < 3; ++k)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) im[static_cast<size_t>((k * h + y) * w + x)] = rgb[static_cast<size_t>((y * w + x) * 3 + k)] / 255.f;
  int newW = netW, newH = netH;
  if (static_cast<float>(netW) / w < static_cast<float>(netH) / h) newH = (h * netW) / w;
  else newW = (w * netH) / h;
  std::vector<float> part(static_cast<size_t>(3 * h * newW)), resized(static_cast<size_t>(3 * newH * newW));
  const float wScale = static_cast<float>(w - 1) / (newW - 1), hScale = static_cast<float>(h - 1) / (newH - 1);
  for (int k = 0; k < 3; ++k)
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < newW; ++c) {
        float val;
        if (c == newW - 1 || w == 1) {
          val = im[static_cast<size_t>((k * h + r) * w + w - 1)];
        } else {
          const float sx = c * wScale;
          const int ix = static_cast<int>(sx);
          const float dx = sx - ix;
          val = (1 - dx) * im[static_cast<size_t>((k * h + r) * w + ix)] + dx * im[static_cast<size_t>((k * h + r) * w + ix + 1)];
        }
        part[static_cast<size_t>((k * h + r) * newW + c)] = val;
      }
  for (int k = 0; k < 3; ++k)
    for (int r = 0; r < newH; ++r) {
      const float sy = r * hScale;
      const int iy = static_cast<int>(sy);
      const float dy = sy - iy;
      for (int c = 0; c < newW; ++c) {
        resized[static_cast<size_t>((k * newH + r) * newW + c)] = (1 - dy) * part[static_cast<size_t>((k * h + iy) * newW + c)];
      }
      if (r == newH - 1 || h == 1) continue;
      for (int c = 0; c < newW; ++c) {
        resized[static_cast<size_t>((k * newH + r) * newW + c)] += dy * part[static_cast<size_t>((k * h + iy + 1) * newW + c)];
      }
    }
  std::vector<float> boxed(static_cast<size_t>(3 * netW * netH), .5f);
  const int dx = (netW - newW) / 2, dy = (netH - newH) / 2;
  for (int k = 0; k < 3; ++k)
    for (int y = 0; y < newH; ++y)
      for (int x = 0; x < newW; ++x) {
        boxed[static_cast<size_t>((k * netH + y + dy) * netW + x + dx)] = resized[static_cast<size_t>((k * newH + y) * newW + x)];
      }
  return boxed;
}

std::vector<uint8_t> randomBytes(size_t count, uint32_t seed) {
  const std::vector<float> values = randomTensor(count, seed, 0.f, 255.99f);
  std::vector<uint8_t> bytes(count);
  for (size_t i = 0; i < count; ++i) bytes[i] = static_cast<uint8_t>(values[i]);
  return bytes;
}

}  // namespace

TEST(letterbox_matches_darknet_for_wide_tall_and_tiny_frames) {
  const Shape network{3, 32, 40};
  for (const auto& size : std::vector<std::pair<int, int>>{{37, 23}, {13, 61}, {40, 32}, {640, 480}, {2, 2}}) {
    const std::vector<uint8_t> rgb = randomBytes(static_cast<size_t>(size.first * size.second * 3), 7);
    const std::vector<float> expected = darknetLetterbox(rgb, size.first, size.second, network.width, network.height);
    std::vector<float> actual(network.elements());
    FramePreprocessor(network).run(rgb.data(), rgb.size(), FrameDescription{size.first, size.second, PixelFormat::Rgb24},
                                   actual.data());
    CHECK(relativeError(actual.data(), expected) <= 1e-6);
    // BGR24 is the same image with the channels swapped.
    std::vector<uint8_t> bgr = rgb;
    for (size_t i = 0; i < bgr.size(); i += 3) std::swap(bgr[i], bgr[i + 2]);
    std::vector<float> fromBgr(network.elements());
    FramePreprocessor(network).run(bgr.data(), bgr.size(), FrameDescription{size.first, size.second, PixelFormat::Bgr24},
                                   fromBgr.data());
    CHECK(relativeError(fromBgr.data(), expected) <= 1e-6);
  }
}

TEST(yuv_frames_convert_with_bt601_limited_range) {
  const Shape network{3, 8, 8};
  // Y=81, U=90, V=240 is BT.601 limited-range pure red (255, 0, 0) within rounding.
  for (PixelFormat format : {PixelFormat::Nv12, PixelFormat::I420}) {
    const FrameDescription frame{6, 6, format};
    std::vector<uint8_t> bytes(frameByteLength(frame), 81);
    for (size_t i = 36; i < bytes.size(); ++i) {
      const bool isU = format == PixelFormat::Nv12 ? (i - 36) % 2 == 0 : i < 36 + 9;
      bytes[i] = isU ? 90 : 240;
    }
    std::vector<float> out(network.elements());
    FramePreprocessor(network).run(bytes.data(), bytes.size(), frame, out.data());
    CHECK(std::fabs(out[0] - 1.f) < .01f);
    CHECK(out[64] < .01f);
    CHECK(out[128] < .01f);
  }
  CHECK_EQ(frameByteLength(FrameDescription{5, 3, PixelFormat::I420}), 15u + 2 * 3 * 2);
}

TEST(frame_errors_say_what_is_wrong) {
  std::vector<float> out(3 * 8 * 8);
  std::vector<uint8_t> bytes(100);
  FramePreprocessor pre(Shape{3, 8, 8});
  CHECK_THROWS_CODE(pre.run(bytes.data(), bytes.size(), FrameDescription{6, 6, PixelFormat::Rgb24}, out.data()),
                    ErrorCode::BadFrame, "rgb24 6x6 needs 108 bytes, got 100");
  CHECK_THROWS_CODE(pre.run(bytes.data(), bytes.size(), FrameDescription{0, 6, PixelFormat::Rgb24}, out.data()),
                    ErrorCode::BadFrame, "size 0x6");
  CHECK_THROWS_CODE(parsePixelFormat("yuyv"), ErrorCode::BadFrame, "unknown format 'yuyv'");
}

TEST(region_decode_undoes_the_letterbox) {
  RegionParams region;
  region.classes = 2;
  region.anchorsPerCell = 1;
  region.softmax = true;
  region.anchors = {2.f, 1.f};
  const Shape shape{7, 2, 2};
  std::vector<float> out(shape.elements(), 0.f);
  // Cell (row 1, col 0): x = y = 0.5 after activation, tw = th = 0, objectness high, class 1 wins.
  const size_t cell = 2;
  out[4 * 4 + cell] = 5.f;
  out[6 * 4 + cell] = 4.f;
  activateRegion(region, shape, out.data());
  // Source 200x100 into 416x416: scaled to 416x208, 104 rows of padding above.
  const std::vector<Detection> found = decodeRegion(region, shape, out.data(), LetterboxGeometry{200, 100, 416, 416}, .5f);
  CHECK_EQ(found.size(), 1u);
  if (found.size() == 1) {
    const Detection& d = found[0];
    CHECK_EQ(d.classId, 1);
    const float objectness = 1.f / (1.f + std::exp(-5.f));
    const float probability = std::exp(4.f) / (std::exp(4.f) + 1.f);
    CHECK(std::fabs(d.score - objectness * probability) < 1e-6f);
    // Network-relative center (0.25, 0.75) -> source center x 0.25*200, y (0.75-0.25)/0.5*100 = 100.
    // Size: (2/2, 1/2) of the network = (1, 0.5) -> source 200 x 0.5/0.5*100.
    CHECK(std::fabs(d.box.width - 200.f) < 1e-3f);
    CHECK(std::fabs(d.box.height - 100.f) < 1e-3f);
    CHECK(std::fabs(d.box.x - (50.f - 100.f)) < 1e-3f);
    CHECK(std::fabs(d.box.y - (100.f - 50.f)) < 1e-3f);
  }
}

TEST(nms_is_per_class_and_keeps_the_best) {
  std::vector<Detection> input = {
      {0, .6f, {0, 0, 10, 10}}, {0, .9f, {1, 1, 10, 10}}, {1, .7f, {0, 0, 10, 10}}, {0, .5f, {50, 50, 10, 10}}};
  const std::vector<Detection> kept = suppressOverlaps(input, .45f);
  CHECK_EQ(kept.size(), 3u);
  CHECK(std::fabs(kept[0].score - .9f) < 1e-6f);
  CHECK_EQ(kept[1].classId, 1);
  CHECK(std::fabs(intersectionOverUnion(Box{0, 0, 10, 10}, Box{5, 0, 10, 10}) - 50.f / 150.f) < 1e-6f);
}

TEST(planner_writes_routes_in_place_and_reuses_memory) {
  const NetworkSpec spec = parseNetworkCfg(
      "[net]\nwidth=16\nheight=16\nchannels=3\n[convolutional]\nfilters=8\nsize=3\npad=1\n[maxpool]\nsize=2\n"
      "stride=2\n[convolutional]\nfilters=8\nsize=3\npad=1\n[convolutional]\nfilters=8\nsize=3\npad=1\n"
      "[route]\nlayers=-1,-2\n[convolutional]\nfilters=4\nsize=1\n");
  const ActivationPlan fused = planActivations(spec, spec.layers.size(), true);
  CHECK(fused.routeInputInPlace[4][0] && fused.routeInputInPlace[4][1]);
  CHECK_EQ(fused.outputOffset[3], fused.outputOffset[4]);
  CHECK_EQ(fused.outputOffset[2], fused.outputOffset[4] + 8 * 64);
  CHECK(fused.arenaFloats < fused.unplannedFloats);
  const ActivationPlan copying = planActivations(spec, spec.layers.size(), false);
  CHECK(!copying.routeInputInPlace[4][0]);
  // Layers 0 and 2 are never live at the same time... but 0 and 1 are: they must not overlap.
  CHECK(fused.outputOffset[0] + 8 * 256 <= fused.outputOffset[1] || fused.outputOffset[1] + 8 * 64 <= fused.outputOffset[0]);
}

TEST(detector_is_safe_under_concurrent_calls) {
  const std::string cfg =
      "[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\n"
      "activation=leaky\n[maxpool]\nsize=2\nstride=2\n[convolutional]\nfilters=14\nsize=1\nactivation=linear\n"
      "[region]\nanchors=1,1,3,3\nclasses=2\nnum=2\nsoftmax=1\n";
  const NetworkSpec spec = parseNetworkCfg(cfg);
  const std::vector<uint8_t> weights = randomWeights(spec, 21);
  DetectorOptions options;
  options.engine.threads = 2;
  auto detector = Detector::createCpu(cfg, weights.data(), weights.size(), options);
  const std::vector<uint8_t> frame = randomBytes(50 * 40 * 3, 22);
  const FrameDescription description{50, 40, PixelFormat::Rgb24};
  const std::vector<Detection> expected = detector->detect(frame.data(), frame.size(), description, {0.f, .5f});
  CHECK(!expected.empty());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t]() {
      for (int i = 0; i < 20; ++i) {
        const auto found = detector->detect(frame.data(), frame.size(), description, {0.f, .5f});
        if (found.size() != expected.size() || found[0].score != expected[0].score) ++mismatches[static_cast<size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) CHECK_EQ(m, 0);
  CHECK_THROWS_CODE(detector->forwardRaw(nullptr, 5, -1), ErrorCode::BadArgument, "input tensor has 5 floats");
}

TEST(detector_load_dispose_loop_releases_everything) {
  // Under `make SANITIZE=1 test`, LeakSanitizer fails the run if anything here is not freed.
  const std::string cfg =
      "[net]\nwidth=16\nheight=16\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\n"
      "activation=leaky\n[convolutional]\nfilters=14\nsize=1\nactivation=linear\n[region]\nanchors=1,1,3,3\n"
      "classes=2\nnum=2\nsoftmax=1\n";
  const std::vector<uint8_t> weights = randomWeights(parseNetworkCfg(cfg), 31);
  const std::vector<uint8_t> frame = randomBytes(20 * 10 * 3, 32);
  for (int i = 0; i < 20; ++i) {
    DetectorOptions options;
    options.engine.threads = 1 + i % 3;
    auto detector = Detector::createCpu(cfg, weights.data(), weights.size(), options);
    detector->detect(frame.data(), frame.size(), FrameDescription{20, 10, PixelFormat::Rgb24}, {.1f, .45f});
  }
  std::vector<uint8_t> truncated(weights.begin(), weights.end() - 8);
  CHECK_THROWS_CODE(Detector::createCpu(cfg, truncated.data(), truncated.size(), DetectorOptions{}),
                    ErrorCode::BadWeights, "ran out in layer 1");
}
