#include "region_head.hpp"

#include <algorithm>
#include <cmath>

namespace emofleet {
namespace {

float logistic(float x) { return 1.f / (1.f + std::exp(-x)); }

}  // namespace

void activateRegion(const RegionParams& region, const Shape& shape, float* data) {
  const size_t plane = shape.plane();
  const size_t perAnchor = static_cast<size_t>(region.coords + 1 + region.classes);
  for (size_t n = 0; n < static_cast<size_t>(region.anchorsPerCell); ++n) {
    float* anchor = data + n * perAnchor * plane;
    for (size_t i = 0; i < 2 * plane; ++i) anchor[i] = logistic(anchor[i]);
    float* objectness = anchor + static_cast<size_t>(region.coords) * plane;
    for (size_t i = 0; i < plane; ++i) objectness[i] = logistic(objectness[i]);
    if (!region.softmax) continue;
    float* classes = objectness + plane;
    for (size_t cell = 0; cell < plane; ++cell) {
      float largest = classes[cell];
      for (size_t k = 1; k < static_cast<size_t>(region.classes); ++k) largest = std::max(largest, classes[k * plane + cell]);
      float sum = 0;
      for (size_t k = 0; k < static_cast<size_t>(region.classes); ++k) {
        float& value = classes[k * plane + cell];
        value = std::exp(value - largest);
        sum += value;
      }
      for (size_t k = 0; k < static_cast<size_t>(region.classes); ++k) classes[k * plane + cell] /= sum;
    }
  }
}

RegionPlacement letterboxPlacement(const LetterboxGeometry& g) {
  // correct_region_boxes: the image was scaled to (newW, newH) and centered inside the network input.
  int newW = g.networkWidth;
  int newH = g.networkHeight;
  if (static_cast<float>(g.networkWidth) / g.sourceWidth < static_cast<float>(g.networkHeight) / g.sourceHeight) {
    newH = (g.sourceHeight * g.networkWidth) / g.sourceWidth;
  } else {
    newW = (g.sourceWidth * g.networkHeight) / g.sourceHeight;
  }
  RegionPlacement placement;
  placement.offsetX = (g.networkWidth - newW) / 2.f / g.networkWidth;
  placement.offsetY = (g.networkHeight - newH) / 2.f / g.networkHeight;
  placement.scaleX = static_cast<float>(newW) / g.networkWidth;
  placement.scaleY = static_cast<float>(newH) / g.networkHeight;
  placement.sourceWidth = g.sourceWidth;
  placement.sourceHeight = g.sourceHeight;
  return placement;
}

std::vector<Detection> decodeRegion(const RegionParams& region, const Shape& shape, const float* activated,
                                    const LetterboxGeometry& g, float scoreThreshold) {
  return decodeRegion(region, shape, activated, letterboxPlacement(g), scoreThreshold);
}

std::vector<Detection> decodeRegion(const RegionParams& region, const Shape& shape, const float* activated,
                                    const RegionPlacement& placement, float scoreThreshold) {
  const float offsetX = placement.offsetX;
  const float offsetY = placement.offsetY;
  const float scaleX = placement.scaleX;
  const float scaleY = placement.scaleY;
  const float sourceWidth = static_cast<float>(placement.sourceWidth);
  const float sourceHeight = static_cast<float>(placement.sourceHeight);

  std::vector<Detection> detections;
  const size_t plane = shape.plane();
  const size_t perAnchor = static_cast<size_t>(region.coords + 1 + region.classes);
  for (size_t n = 0; n < static_cast<size_t>(region.anchorsPerCell); ++n) {
    const float* anchor = activated + n * perAnchor * plane;
    for (int row = 0; row < shape.height; ++row) {
      for (int col = 0; col < shape.width; ++col) {
        const size_t cell = static_cast<size_t>(row) * static_cast<size_t>(shape.width) + static_cast<size_t>(col);
        const float objectness = anchor[4 * plane + cell];
        if (objectness < scoreThreshold) continue;  // score = objectness x probability <= objectness
        const float cx = (col + anchor[cell]) / shape.width;
        const float cy = (row + anchor[plane + cell]) / shape.height;
        const float w = std::exp(anchor[2 * plane + cell]) * region.anchors[2 * n] / shape.width;
        const float h = std::exp(anchor[3 * plane + cell]) * region.anchors[2 * n + 1] / shape.height;
        Box box;
        const float boxW = w / scaleX;
        const float boxH = h / scaleY;
        box.x = ((cx - offsetX) / scaleX - boxW / 2) * sourceWidth;
        box.y = ((cy - offsetY) / scaleY - boxH / 2) * sourceHeight;
        box.width = boxW * sourceWidth;
        box.height = boxH * sourceHeight;
        for (int k = 0; k < region.classes; ++k) {
          const float score = objectness * anchor[(5 + static_cast<size_t>(k)) * plane + cell];
          if (score >= scoreThreshold && score > 0) detections.push_back(Detection{k, score, box});
        }
      }
    }
  }
  return detections;
}

float intersectionOverUnion(const Box& a, const Box& b) {
  const float left = std::max(a.x, b.x);
  const float top = std::max(a.y, b.y);
  const float right = std::min(a.x + a.width, b.x + b.width);
  const float bottom = std::min(a.y + a.height, b.y + b.height);
  const float intersection = std::max(0.f, right - left) * std::max(0.f, bottom - top);
  const float unionArea = a.width * a.height + b.width * b.height - intersection;
  return unionArea > 0 ? intersection / unionArea : 0.f;
}

std::vector<Detection> suppressOverlaps(std::vector<Detection> detections, float iouThreshold) {
  std::stable_sort(detections.begin(), detections.end(), [](const Detection& a, const Detection& b) {
    return a.classId != b.classId ? a.classId < b.classId : a.score > b.score;
  });
  std::vector<Detection> kept;
  size_t classStart = 0;
  for (size_t i = 0; i < detections.size(); ++i) {
    if (i > 0 && detections[i].classId != detections[i - 1].classId) classStart = kept.size();
    bool suppressed = false;
    for (size_t k = classStart; k < kept.size() && !suppressed; ++k) {
      suppressed = intersectionOverUnion(kept[k].box, detections[i].box) > iouThreshold;
    }
    if (!suppressed) kept.push_back(detections[i]);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return kept;
}

}  // namespace emofleet
