// The network a darknet cfg describes: layer kinds, their parameters and inferred shapes (batch 1, NCHW).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace emofleet {

enum class LayerKind { Convolutional, MaxPool, Route, Reorg, Shortcut, AvgPool, Connected, Softmax, Region };
enum class Activation { Linear, Leaky, Relu, Logistic };

const char* layerKindName(LayerKind kind);
const char* activationName(Activation activation);

struct Shape {
  int channels = 0;
  int height = 0;
  int width = 0;
  size_t elements() const {
    return static_cast<size_t>(channels) * static_cast<size_t>(height) * static_cast<size_t>(width);
  }
  size_t plane() const { return static_cast<size_t>(height) * static_cast<size_t>(width); }
};

struct ConvolutionParams {
  int filters = 1;
  int size = 1;
  int stride = 1;
  int padding = 0;  // per side, in pixels
  int groups = 1;
  bool batchNormalize = false;
  Activation activation = Activation::Logistic;
};

struct MaxPoolParams {
  int size = 1;
  int stride = 1;
  int padding = 0;  // total over both sides; the window starts at -padding/2 (darknet)
};

struct ConnectedParams {
  int outputs = 1;
  bool batchNormalize = false;
  Activation activation = Activation::Logistic;
};

struct SoftmaxParams {
  int groups = 1;
  float temperature = 1;
};

struct RegionParams {
  int classes = 20;
  int coords = 4;
  int anchorsPerCell = 1;  // darknet's `num`
  bool softmax = false;
  std::vector<float> anchors;  // (w, h) pairs in grid cells
};

struct LayerSpec {
  LayerKind kind = LayerKind::Convolutional;
  int index = 0;
  int cfgLine = 0;
  Shape input;
  Shape output;
  std::vector<int> inputs;  // absolute indices of the layers read; -1 is the network input
  ConvolutionParams convolution;
  MaxPoolParams maxPool;
  int reorgStride = 1;
  Activation shortcutActivation = Activation::Linear;
  ConnectedParams connected;
  SoftmaxParams softmax;
  RegionParams region;

  /** Multiply-accumulate operations x2 for one forward pass (conv and connected only). */
  double flops() const;
  /** Number of parameters the weights file stores for this layer (0 for layers without weights). */
  size_t storedParameterCount() const;
};

struct NetworkSpec {
  Shape input;
  std::vector<LayerSpec> layers;
};

/** Parses cfg text; errors are DetectorError(BadCfg) naming `cfg:<line>`. */
NetworkSpec parseNetworkCfg(const std::string& cfgText);

}  // namespace emofleet
