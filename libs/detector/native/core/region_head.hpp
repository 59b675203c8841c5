// darknet's [region] as post-processing shared by every backend: activation, box decoding, letterbox
// correction back to source pixels, and per-class NMS.
#pragma once

#include <vector>

#include "network_spec.hpp"

namespace emofleet {

struct Box {
  float x = 0;  // left, source pixels
  float y = 0;  // top
  float width = 0;
  float height = 0;
};

struct Detection {
  int classId = 0;
  float score = 0;  // objectness x class probability
  Box box;
};

struct LetterboxGeometry {
  int sourceWidth = 0;
  int sourceHeight = 0;
  int networkWidth = 0;
  int networkHeight = 0;
};

/**
 * Where the source image sits in the network input, as fractions of the input: the image's left/top edge at
 * (offsetX, offsetY), its width and height scaleX and scaleY of the input's. Box coordinates are mapped back
 * with `(c - offset) / scale * source size`.
 */
struct RegionPlacement {
  float offsetX = 0;
  float offsetY = 0;
  float scaleX = 1;
  float scaleY = 1;
  int sourceWidth = 0;
  int sourceHeight = 0;
};

/** darknet's correct_region_boxes for letterbox_image: the image scaled to fit and centred. */
RegionPlacement letterboxPlacement(const LetterboxGeometry& geometry);

/**
 * forward_region_layer's CPU path, in place on the raw last-conv output (NCHW, num*(5+classes) channels):
 * logistic on x, y and objectness; softmax across the class planes of every cell when softmax=1.
 */
void activateRegion(const RegionParams& region, const Shape& shape, float* data);

/**
 * Boxes from an activated region output (get_region_detections + correct_region_boxes): center
 * ((col + x) / w, (row + y) / h), size (exp(tw) * anchor_w / w, exp(th) * anchor_h / h), then the letterbox
 * offset and scale are undone and the box is scaled to source pixels. Keeps class scores >= scoreThreshold.
 */
std::vector<Detection> decodeRegion(const RegionParams& region, const Shape& shape, const float* activated,
                                    const LetterboxGeometry& geometry, float scoreThreshold);

/** The same decoding for any placement of the image in the network input (e.g. padded to a square). */
std::vector<Detection> decodeRegion(const RegionParams& region, const Shape& shape, const float* activated,
                                    const RegionPlacement& placement, float scoreThreshold);

/** Greedy per-class NMS: highest score first, drop boxes of the same class with IoU > iouThreshold. */
std::vector<Detection> suppressOverlaps(std::vector<Detection> detections, float iouThreshold);

float intersectionOverUnion(const Box& a, const Box& b);

}  // namespace emofleet
