// Pad-to-square input (face-api's toBatchTensor), its box placement, face-api's crop, the classifier stage and
// detectClassified against obvious references.
#include <algorithm>
#include <cmath>
#include <thread>

#include "../core/classifier_stage.hpp"
#include "../core/detector.hpp"
#include "../core/detector_error.hpp"
#include "../core/square_input.hpp"
#include "test_harness.hpp"
#include "test_networks.hpp"

using namespace emofleet;
using namespace emofleet_test;

namespace {

std::vector<uint8_t> bytes(size_t count, uint32_t seed) {
  const std::vector<float> values = randomTensor(count, seed, 0.f, 255.99f);
  std::vector<uint8_t> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(values[i]);
  return out;
}

/**
 * face-api written out the long way: slice the region (HWC RGB), padToSquare (concat of zero tensors before/after,
 * round(diff * 0.5) after when centred), tfjs-backend-cpu's resizeBilinear loop in double, then (v - mean) * scale.
 */
std::vector<float> faceapiInput(const std::vector<uint8_t>& rgb, int frameWidth, const PixelRect& r, bool centred,
                                int size, const float mean[3], float scale) {
  const int difference = std::abs(r.height - r.width);
  const int after = static_cast<int>(std::round(difference * (centred ? .5 : 1.)));
  const int before = centred ? difference - after : 0;
  const int side = std::max(r.width, r.height);
  std::vector<double> padded(static_cast<size_t>(side * side * 3), 0.);
  for (int y = 0; y < r.height; ++y) {
    for (int x = 0; x < r.width; ++x) {
      const int py = y + (r.height < r.width ? before : 0);
      const int px = x + (r.width < r.height ? before : 0);
      for (int k = 0; k < 3; ++k) {
        padded[static_cast<size_t>((py * side + px) * 3 + k)] =
            rgb[static_cast<size_t>(((r.y + y) * frameWidth + r.x + x) * 3 + k)];
      }
    }
  }
  const double ratio = static_cast<double>(side) / size;
  std::vector<float> out(static_cast<size_t>(3 * size * size));
  for (int row = 0; row < size; ++row) {
    const double sy = ratio * row;
    const int y0 = std::max(0, static_cast<int>(std::floor(sy)));
    const double fy = sy - y0;
    const int y1 = std::min(side - 1, static_cast<int>(std::ceil(sy)));
    for (int col = 0; col < size; ++col) {
      const double sx = ratio * col;
      const int x0 = std::max(0, static_cast<int>(std::floor(sx)));
      const double fx = sx - x0;
      const int x1 = std::min(side - 1, static_cast<int>(std::ceil(sx)));
      for (int k = 0; k < 3; ++k) {
        auto at = [&](int y, int x) { return padded[static_cast<size_t>((y * side + x) * 3 + k)]; };
        const double top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx;
        const double bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx;
        out[static_cast<size_t>((k * size + row) * size + col)] =
            static_cast<float>((top + (bottom - top) * fy - mean[k]) * scale);
      }
    }
  }
  return out;
}

double maxDifference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = a.size() == b.size() ? 0 : 1e9;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  return worst;
}

const char* const kFaceDetector =
    "[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\n"
    "activation=leaky\n[maxpool]\nsize=2\nstride=2\n[convolutional]\nfilters=12\nsize=1\nactivation=linear\n"
    "[region]\nanchors=2,2,5,5\nclasses=1\nnum=2\nsoftmax=1\n";

// face-api's expression net in miniature: depthwise + pointwise, a shortcut, a depthwise 4x4 stride 2 (TF's
// `same` as darknet padding), avgpool, connected, softmax.
const char* const kClassifier =
    "[net]\nwidth=16\nheight=16\nchannels=3\n[convolutional]\nfilters=4\nsize=4\nstride=2\npadding=1\n"
    "activation=relu\n[convolutional]\nfilters=4\nsize=3\npad=1\ngroups=4\nactivation=linear\n[convolutional]\n"
    "filters=4\nsize=1\nactivation=linear\n[shortcut]\nfrom=-3\nactivation=relu\n[convolutional]\nfilters=4\n"
    "size=4\nstride=2\npadding=1\ngroups=4\nactivation=leaky\n[avgpool]\n[connected]\n"
    "output=5\nactivation=linear\n[softmax]\n";

NetworkInputSpec padded(SquarePadding padding, float m0, float m1, float m2, float scale) {
  NetworkInputSpec spec;
  spec.fit = InputFit::PadToSquare;
  spec.padding = padding;
  spec.mean[0] = m0;
  spec.mean[1] = m1;
  spec.mean[2] = m2;
  spec.scale = scale;
  return spec;
}

}  // namespace

TEST(square_input_matches_faceapi_pad_and_tf_resize) {
  const float mean[3] = {122.782f, 117.001f, 104.298f};
  const Shape network{3, 24, 24};
  SquareInputSampler sampler(network);
  struct Case {
    int frameWidth, frameHeight;
    PixelRect region;
  };
  const std::vector<Case> cases = {
      {40, 30, {0, 0, 40, 30}},  // wide: rows padded
      {31, 50, {0, 0, 31, 50}},  // tall, odd difference
      {24, 24, {0, 0, 24, 24}},  // square, same size: a copy
      {64, 48, {5, 7, 19, 26}},  // a crop inside a frame
      {9, 13, {2, 1, 7, 12}},    // upsampling
  };
  for (const Case& c : cases) {
    const std::vector<uint8_t> rgb = bytes(static_cast<size_t>(c.frameWidth * c.frameHeight * 3), 41);
    for (const bool centred : {false, true}) {
      const NetworkInputSpec spec =
          padded(centred ? SquarePadding::Centred : SquarePadding::BottomRight, mean[0], mean[1], mean[2], 1.f / 255.f);
      std::vector<float> actual(network.elements());
      sampler.run(rgb.data(), FrameDescription{c.frameWidth, c.frameHeight, PixelFormat::Rgb24}, c.region, spec,
                  actual.data());
      const std::vector<float> expected =
          faceapiInput(rgb, c.frameWidth, c.region, centred, network.width, mean, 1.f / 255.f);
      CHECK(maxDifference(actual, expected) < 1e-5);
    }
  }
}

TEST(square_input_reads_bgr_and_yuv_like_rgb) {
  const Shape network{3, 16, 16};
  const NetworkInputSpec spec = padded(SquarePadding::BottomRight, 0, 0, 0, 1.f);
  const int width = 20, height = 14;
  const std::vector<uint8_t> rgb = bytes(static_cast<size_t>(width * height * 3), 43);
  std::vector<uint8_t> bgr(rgb);
  for (size_t i = 0; i < bgr.size(); i += 3) std::swap(bgr[i], bgr[i + 2]);
  SquareInputSampler sampler(network);
  std::vector<float> fromRgb(network.elements()), fromBgr(network.elements());
  sampler.run(rgb.data(), FrameDescription{width, height, PixelFormat::Rgb24}, PixelRect{0, 0, width, height}, spec,
              fromRgb.data());
  sampler.run(bgr.data(), FrameDescription{width, height, PixelFormat::Bgr24}, PixelRect{0, 0, width, height}, spec,
              fromBgr.data());
  CHECK(maxDifference(fromRgb, fromBgr) == 0);
  // A grey NV12 frame (Y=128, U=V=128) is grey RGB everywhere the image is, zero in the padding.
  std::vector<uint8_t> nv12(static_cast<size_t>(width * height + 2 * 10 * 7), 128);
  std::vector<float> grey(network.elements());
  sampler.run(nv12.data(), FrameDescription{width, height, PixelFormat::Nv12}, PixelRect{0, 0, width, height}, spec,
              grey.data());
  const float expected = std::min(255.f, std::max(0.f, 1.164f * (128.f - 16.f)));
  CHECK(std::fabs(grey[0] - expected) < 1e-4);
  CHECK_EQ(grey[network.plane() - 1], 0.f);  // bottom rows: padding
}

TEST(square_placement_maps_network_boxes_back_to_the_frame) {
  const Shape network{3, 416, 416};
  // face-api: content width round(640 * 416 / 640) = 416, height round(480 * 0.65) = 312.
  const RegionPlacement bottomRight = squarePlacement(640, 480, network, SquarePadding::BottomRight);
  CHECK_EQ(bottomRight.offsetX, 0.f);
  CHECK_EQ(bottomRight.offsetY, 0.f);
  CHECK(std::fabs(bottomRight.scaleY - 312.f / 416.f) < 1e-7);
  CHECK_EQ(bottomRight.scaleX, 1.f);
  // Centred, 480 wide x 640 high: 160 columns of padding, 80 before.
  const RegionPlacement centred = squarePlacement(480, 640, network, SquarePadding::Centred);
  CHECK(std::fabs(centred.offsetX - 80.f / 640.f) < 1e-7);
  CHECK(std::fabs(centred.scaleX - 480.f / 640.f) < 1e-7);
  CHECK_EQ(centred.offsetY, 0.f);
  CHECK_EQ(centred.scaleY, 1.f);
  // One anchor, one cell: a box centred in the network input decodes to the centre of the image area it covers.
  RegionParams region;
  region.classes = 1;
  region.anchorsPerCell = 1;
  region.softmax = true;
  region.anchors = {1, 1};
  const Shape head{6, 1, 1};
  const std::vector<float> activated = {.5f, .5f, 0.f, 0.f, .9f, 1.f};
  const std::vector<Detection> found = decodeRegion(region, head, activated.data(), centred, .5f);
  CHECK_EQ(found.size(), size_t{1});
  CHECK(std::fabs(found[0].box.x + found[0].box.width / 2 - 240.f) < 1e-3);
  CHECK(std::fabs(found[0].box.width - 640.f) < 1e-3);  // the whole padded side, in image pixels
}

TEST(clipped_crop_floors_like_faceapi) {
  PixelRect crop;
  CHECK(clippedCrop(Box{-3.5f, 2.7f, 20.2f, 10.9f}, 100, 50, crop));
  CHECK_EQ(crop.x, 0);
  CHECK_EQ(crop.y, 2);
  CHECK_EQ(crop.width, 16);   // floor(-3.5 + 20.2 - 0)
  CHECK_EQ(crop.height, 10);  // floor(10.9)
  CHECK(clippedCrop(Box{90.5f, 40.f, 30.f, 30.f}, 100, 50, crop));
  CHECK_EQ(crop.x, 90);
  CHECK_EQ(crop.width, 9);  // floor(100 - 90.5)
  CHECK_EQ(crop.height, 10);
  CHECK(!clippedCrop(Box{99.5f, 0.f, 5.f, 5.f}, 100, 50, crop));  // half a pixel left
  CHECK(!clippedCrop(Box{10.f, 60.f, 5.f, 5.f}, 100, 50, crop));  // below the frame
}

TEST(classifier_stage_runs_the_network_on_the_prepared_crop) {
  const NetworkSpec spec = parseNetworkCfg(kClassifier);
  const std::vector<uint8_t> weights = randomWeights(spec, 51);
  EngineOptions engine;
  engine.threads = 2;
  const NetworkInputSpec input = padded(SquarePadding::Centred, 122.782f, 117.001f, 104.298f, 1.f / 255.f);
  ClassifierStage stage(kClassifier, weights.data(), weights.size(), input, engine);
  CHECK_EQ(stage.info().classes, 5);
  const int width = 60, height = 40;
  const std::vector<uint8_t> frame = bytes(static_cast<size_t>(width * height * 3), 52);
  const FrameDescription description{width, height, PixelFormat::Rgb24};
  Classification classification;
  CHECK(stage.classify(frame.data(), description, Box{10.6f, 5.2f, 20.9f, 30.5f}, classification));
  const std::vector<float> tensor = stage.prepare(frame.data(), description, PixelRect{10, 5, 20, 30});
  const float mean[3] = {122.782f, 117.001f, 104.298f};
  CHECK(maxDifference(tensor, faceapiInput(frame, width, PixelRect{10, 5, 20, 30}, true, 16, mean, 1.f / 255.f)) < 1e-5);
  const std::vector<float> expected = naiveForward(spec, weights, tensor).back();
  CHECK(relativeError(classification.scores.data(), expected) < 1e-5);
  CHECK_EQ(classification.classId,
           static_cast<int>(std::max_element(expected.begin(), expected.end()) - expected.begin()));
  float sum = 0;
  for (float p : classification.scores) sum += p;
  CHECK(std::fabs(sum - 1) < 1e-5);
  CHECK(!stage.classify(frame.data(), description, Box{70.f, 5.f, 10.f, 10.f}, classification));
}

TEST(detect_classified_is_detect_then_classify_each_box) {
  const NetworkSpec detectorSpec = parseNetworkCfg(kFaceDetector);
  const std::vector<uint8_t> detectorWeights = randomWeights(detectorSpec, 61);
  const std::vector<uint8_t> classifierWeights = randomWeights(parseNetworkCfg(kClassifier), 62);
  DetectorOptions options;
  options.engine.threads = 2;
  options.input = padded(SquarePadding::BottomRight, 0, 0, 0, 1.f / 255.f);
  auto detector = Detector::createCpu(kFaceDetector, detectorWeights.data(), detectorWeights.size(), options);
  EngineOptions engine;
  engine.threads = 2;
  const NetworkInputSpec classifierInput = padded(SquarePadding::Centred, 120.f, 110.f, 100.f, 1.f / 255.f);
  detector->setClassifier(std::make_unique<ClassifierStage>(kClassifier, classifierWeights.data(),
                                                            classifierWeights.size(), classifierInput, engine));
  const int width = 48, height = 36;
  const std::vector<uint8_t> frame = bytes(static_cast<size_t>(width * height * 3), 63);
  const FrameDescription description{width, height, PixelFormat::Rgb24};
  const DetectThresholds thresholds{.05f, .4f};
  const std::vector<Detection> detections = detector->detect(frame.data(), frame.size(), description, thresholds);
  CHECK(!detections.empty());
  const std::vector<ClassifiedDetection> classified =
      detector->detectClassified(frame.data(), frame.size(), description, thresholds);
  ClassifierStage reference(kClassifier, classifierWeights.data(), classifierWeights.size(), classifierInput, engine);
  size_t next = 0;
  for (const Detection& detection : detections) {
    Classification expected;
    if (!reference.classify(frame.data(), description, detection.box, expected)) continue;
    CHECK(next < classified.size());
    if (next >= classified.size()) break;
    const ClassifiedDetection& item = classified[next++];
    CHECK_EQ(item.detectorScore, detection.score);
    CHECK_EQ(item.detection.box.x, detection.box.x);
    CHECK_EQ(item.detection.classId, expected.classId);
    CHECK(maxDifference(item.scores, expected.scores) == 0);
    CHECK(std::fabs(item.detection.score - detection.score * expected.scores[static_cast<size_t>(expected.classId)]) < 1e-7);
  }
  CHECK_EQ(next, classified.size());
  // The network input is face-api's padded square of the whole frame, RGB / 255.
  const std::vector<float> tensor = detector->preprocess(frame.data(), frame.size(), description);
  const float zero[3] = {0, 0, 0};
  CHECK(maxDifference(tensor, faceapiInput(frame, width, PixelRect{0, 0, width, height}, false, 32, zero, 1.f / 255.f)) <
        1e-6);
  // Concurrent calls give the sequential result.
  std::vector<std::thread> threads;
  std::vector<int> mismatches(3, 0);
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t]() {
      for (int i = 0; i < 10; ++i) {
        const auto found = detector->detectClassified(frame.data(), frame.size(), description, thresholds);
        if (found.size() != classified.size() || found[0].scores != classified[0].scores) ++mismatches[static_cast<size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) CHECK_EQ(m, 0);
}

TEST(two_stage_errors_name_the_stage) {
  const std::vector<uint8_t> detectorWeights = randomWeights(parseNetworkCfg(kFaceDetector), 71);
  const std::vector<uint8_t> classifierWeights = randomWeights(parseNetworkCfg(kClassifier), 72);
  const NetworkInputSpec input = padded(SquarePadding::Centred, 0, 0, 0, 1.f);
  CHECK_THROWS_CODE(ClassifierStage(kFaceDetector, detectorWeights.data(), detectorWeights.size(), input, EngineOptions{}),
                    ErrorCode::BadCfg, "classifier cfg:");
  std::vector<uint8_t> truncated(classifierWeights.begin(), classifierWeights.end() - 4);
  CHECK_THROWS_CODE(ClassifierStage(kClassifier, truncated.data(), truncated.size(), input, EngineOptions{}),
                    ErrorCode::BadWeights, "classifier weights:");
  CHECK_THROWS_CODE(ClassifierStage(kClassifier, classifierWeights.data(), classifierWeights.size(), NetworkInputSpec{},
                                    EngineOptions{}),
                    ErrorCode::BadArgument, "pad-to-square");
  const std::string wide = "[net]\nwidth=32\nheight=16\nchannels=3\n[convolutional]\nfilters=12\nsize=1\n"
                           "activation=linear\n[region]\nanchors=2,2,5,5\nclasses=1\nnum=2\nsoftmax=1\n";
  const std::vector<uint8_t> wideWeights = randomWeights(parseNetworkCfg(wide), 73);
  DetectorOptions options;
  options.input = input;
  CHECK_THROWS_CODE(Detector::createCpu(wide, wideWeights.data(), wideWeights.size(), options), ErrorCode::BadArgument,
                    "needs a square network input, the cfg has 32x16");
  auto plain = Detector::createCpu(kFaceDetector, detectorWeights.data(), detectorWeights.size(), DetectorOptions{});
  const std::vector<uint8_t> frame(8 * 8 * 3, 0);
  CHECK_THROWS_CODE(plain->detectClassified(frame.data(), frame.size(), FrameDescription{8, 8, PixelFormat::Rgb24}, {}),
                    ErrorCode::Unsupported, "no classifier stage");
}
