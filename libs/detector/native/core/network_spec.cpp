#include "network_spec.hpp"

#include <limits>

#include "cfg_sections.hpp"
#include "detector_error.hpp"

namespace emofleet {
namespace {

// Limits that keep a hostile cfg from asking for absurd allocations; far above any YOLO network.
constexpr int kMaxDimension = 16384;
constexpr size_t kMaxTensorElements = size_t{1} << 28;
constexpr size_t kMaxLayerParameters = size_t{1} << 28;
constexpr size_t kMaxLayers = 4096;

Activation parseActivation(const SectionOptions& options, const std::string& fallback) {
  const std::string name = options.text("activation", fallback);
  if (name == "linear") return Activation::Linear;
  if (name == "leaky") return Activation::Leaky;
  if (name == "relu") return Activation::Relu;
  if (name == "logistic") return Activation::Logistic;
  options.fail("activation", "unsupported activation '" + name + "' (linear, leaky, relu, logistic)");
}

void checkShape(const SectionOptions& options, const Shape& shape, const char* what) {
  if (shape.channels <= 0 || shape.height <= 0 || shape.width <= 0) {
    options.fail("", std::string(what) + " shape " + std::to_string(shape.channels) + "x" +
                         std::to_string(shape.height) + "x" + std::to_string(shape.width) + " is empty");
  }
  if (shape.channels > (1 << 20) || shape.height > kMaxDimension || shape.width > kMaxDimension ||
      shape.elements() > kMaxTensorElements) {
    options.fail("", std::string(what) + " shape is too large");
  }
}

int positive(const SectionOptions& options, const std::string& key, int value) {
  if (value <= 0) options.fail(key, key + " must be positive, got " + std::to_string(value));
  return value;
}

void parseConvolutional(const SectionOptions& options, LayerSpec& layer) {
  ConvolutionParams& p = layer.convolution;
  p.filters = positive(options, "filters", options.integer("filters", 1));
  p.size = positive(options, "size", options.integer("size", 1));
  p.stride = positive(options, "stride", options.integer("stride", 1));
  p.groups = positive(options, "groups", options.integer("groups", 1));
  const int pad = options.integer("pad", 0);
  p.padding = options.integer("padding", 0);
  if (pad) p.padding = p.size / 2;  // darknet: `pad=1` means "same" padding and overrides `padding`
  if (p.padding < 0) options.fail("padding", "padding must not be negative");
  if (options.integer("dilation", 1) != 1) options.fail("dilation", "dilated convolution is not supported");
  if (options.integer("binary", 0) || options.integer("xnor", 0)) {
    options.fail("binary", "binary/xnor convolution is not supported");
  }
  p.batchNormalize = options.integer("batch_normalize", 0) != 0;
  p.activation = parseActivation(options, "logistic");
  const Shape& in = layer.input;
  if (in.channels % p.groups != 0) {
    options.fail("groups", "input channels " + std::to_string(in.channels) + " not divisible by groups=" +
                               std::to_string(p.groups));
  }
  if (p.filters % p.groups != 0) {
    options.fail("groups", "filters=" + std::to_string(p.filters) + " not divisible by groups=" +
                               std::to_string(p.groups));
  }
  if (p.size > kMaxDimension || p.stride > kMaxDimension || p.padding > kMaxDimension) {
    options.fail("size", "size/stride/padding too large");
  }
  const long outH = (static_cast<long>(in.height) + 2L * p.padding - p.size) / p.stride + 1;
  const long outW = (static_cast<long>(in.width) + 2L * p.padding - p.size) / p.stride + 1;
  if (in.height + 2 * p.padding < p.size || in.width + 2 * p.padding < p.size) {
    options.fail("size", "kernel " + std::to_string(p.size) + " larger than padded input " +
                             std::to_string(in.height) + "x" + std::to_string(in.width));
  }
  layer.output = Shape{p.filters, static_cast<int>(outH), static_cast<int>(outW)};
  if (layer.storedParameterCount() > kMaxLayerParameters) options.fail("filters", "too many parameters");
}

void parseMaxPool(const SectionOptions& options, LayerSpec& layer) {
  MaxPoolParams& p = layer.maxPool;
  p.stride = positive(options, "stride", options.integer("stride", 1));
  p.size = positive(options, "size", options.integer("size", p.stride));
  p.padding = options.integer("padding", p.size - 1);  // darknet's default: size-1 in total
  if (p.padding < 0) options.fail("padding", "padding must not be negative");
  if (p.size > kMaxDimension || p.stride > kMaxDimension || p.padding > kMaxDimension) {
    options.fail("size", "size/stride/padding too large");
  }
  const Shape& in = layer.input;
  if (in.width + p.padding < p.size || in.height + p.padding < p.size) {
    options.fail("size", "window larger than padded input");
  }
  layer.output = Shape{in.channels, (in.height + p.padding - p.size) / p.stride + 1,
                       (in.width + p.padding - p.size) / p.stride + 1};
}

void parseRoute(const SectionOptions& options, LayerSpec& layer, const std::vector<LayerSpec>& previous) {
  const std::vector<int> listed = options.integerList("layers");
  if (listed.empty()) options.fail("layers", "[route] needs layers=");
  layer.inputs.clear();
  Shape out{0, 0, 0};
  for (int value : listed) {
    const int absolute = value < 0 ? layer.index + value : value;
    if (absolute < 0 || absolute >= layer.index) {
      options.fail("layers", "route to layer " + std::to_string(value) + " is outside 0.." +
                                 std::to_string(layer.index - 1));
    }
    const Shape& shape = previous[static_cast<size_t>(absolute)].output;
    if (out.channels == 0) {
      out = shape;
    } else {
      if (shape.height != out.height || shape.width != out.width) {
        options.fail("layers", "route inputs differ in size: layer " + std::to_string(absolute) + " is " +
                                   std::to_string(shape.height) + "x" + std::to_string(shape.width) +
                                   ", expected " + std::to_string(out.height) + "x" +
                                   std::to_string(out.width));
      }
      out.channels += shape.channels;
    }
    layer.inputs.push_back(absolute);
  }
  layer.output = out;
}

void parseReorg(const SectionOptions& options, LayerSpec& layer) {
  layer.reorgStride = positive(options, "stride", options.integer("stride", 1));
  if (options.integer("reverse", 0) || options.integer("flatten", 0) || options.integer("extra", 0)) {
    options.fail("reverse", "only the forward reorg is supported");
  }
  const Shape& in = layer.input;
  const int s = layer.reorgStride;
  if (s > kMaxDimension || in.channels % (s * s) != 0) {
    options.fail("stride", "input channels " + std::to_string(in.channels) + " are not divisible by stride^2");
  }
  if (in.width % s != 0 || in.height % s != 0) {
    options.fail("stride", "input " + std::to_string(in.height) + "x" + std::to_string(in.width) +
                               " is not divisible by stride " + std::to_string(s));
  }
  if (static_cast<long long>(in.channels) * s * s > (1 << 20)) options.fail("stride", "too many output channels");
  layer.output = Shape{in.channels * s * s, in.height / s, in.width / s};
}

void parseShortcut(const SectionOptions& options, LayerSpec& layer, const std::vector<LayerSpec>& previous) {
  if (!options.has("from")) options.fail("from", "[shortcut] needs from=");
  const int from = options.integer("from", 0);
  const int absolute = from < 0 ? layer.index + from : from;
  if (absolute < 0 || absolute >= layer.index) options.fail("from", "from=" + std::to_string(from) + " is out of range");
  const Shape& other = previous[static_cast<size_t>(absolute)].output;
  const Shape& in = layer.input;
  if (other.channels != in.channels || other.height != in.height || other.width != in.width) {
    options.fail("from", "shortcut between different shapes is not supported");
  }
  if (options.number("alpha", 1) != 1 || options.number("beta", 1) != 1) {
    options.fail("alpha", "weighted shortcut (alpha/beta) is not supported");
  }
  layer.inputs.push_back(absolute);
  layer.shortcutActivation = parseActivation(options, "linear");
  layer.output = in;
}

void parseConnected(const SectionOptions& options, LayerSpec& layer) {
  ConnectedParams& p = layer.connected;
  p.outputs = positive(options, "output", options.integer("output", 1));
  p.batchNormalize = options.integer("batch_normalize", 0) != 0;
  p.activation = parseActivation(options, "logistic");
  layer.output = Shape{p.outputs, 1, 1};
  if (layer.storedParameterCount() > kMaxLayerParameters) options.fail("output", "too many parameters");
}

void parseSoftmax(const SectionOptions& options, LayerSpec& layer) {
  layer.softmax.groups = positive(options, "groups", options.integer("groups", 1));
  layer.softmax.temperature = options.number("temperature", 1);
  if (!(layer.softmax.temperature > 0)) options.fail("temperature", "temperature must be positive");
  if (layer.input.elements() % static_cast<size_t>(layer.softmax.groups) != 0) {
    options.fail("groups", "input size not divisible by groups");
  }
  layer.output = layer.input;
}

void parseRegion(const SectionOptions& options, LayerSpec& layer) {
  RegionParams& p = layer.region;
  p.classes = positive(options, "classes", options.integer("classes", 20));
  p.coords = options.integer("coords", 4);
  if (p.coords != 4) options.fail("coords", "only coords=4 is supported");
  p.anchorsPerCell = positive(options, "num", options.integer("num", 1));
  p.softmax = options.integer("softmax", 0) != 0;
  if (options.has("tree")) options.fail("tree", "softmax trees are not supported");
  if (options.integer("background", 0)) options.fail("background", "background=1 is not supported");
  p.anchors = options.numberList("anchors");
  if (p.anchors.size() != static_cast<size_t>(p.anchorsPerCell) * 2) {
    options.fail("anchors", "expected " + std::to_string(2L * p.anchorsPerCell) + " anchor values (num=" +
                                std::to_string(p.anchorsPerCell) + "), got " + std::to_string(p.anchors.size()));
  }
  const long expected = static_cast<long>(p.anchorsPerCell) * (p.coords + 1 + p.classes);
  if (layer.input.channels != expected) {
    options.fail("classes", "input has " + std::to_string(layer.input.channels) + " channels, num*(coords+1+classes) = " +
                                std::to_string(expected));
  }
  layer.output = layer.input;
}

}  // namespace

const char* layerKindName(LayerKind kind) {
  switch (kind) {
    case LayerKind::Convolutional: return "convolutional";
    case LayerKind::MaxPool: return "maxpool";
    case LayerKind::Route: return "route";
    case LayerKind::Reorg: return "reorg";
    case LayerKind::Shortcut: return "shortcut";
    case LayerKind::AvgPool: return "avgpool";
    case LayerKind::Connected: return "connected";
    case LayerKind::Softmax: return "softmax";
    case LayerKind::Region: return "region";
  }
  return "unknown";
}

const char* activationName(Activation activation) {
  switch (activation) {
    case Activation::Linear: return "linear";
    case Activation::Leaky: return "leaky";
    case Activation::Relu: return "relu";
    case Activation::Logistic: return "logistic";
  }
  return "unknown";
}

double LayerSpec::flops() const {
  if (kind == LayerKind::Convolutional) {
    const double perOutput = 2.0 * (input.channels / convolution.groups) * convolution.size * convolution.size;
    return perOutput * static_cast<double>(output.elements());
  }
  if (kind == LayerKind::Connected) return 2.0 * static_cast<double>(input.elements()) * connected.outputs;
  return 0;
}

size_t LayerSpec::storedParameterCount() const {
  if (kind == LayerKind::Convolutional) {
    const size_t n = static_cast<size_t>(convolution.filters);
    const size_t weights = n * static_cast<size_t>(input.channels / convolution.groups) *
                           static_cast<size_t>(convolution.size) * static_cast<size_t>(convolution.size);
    return n + (convolution.batchNormalize ? 3 * n : 0) + weights;
  }
  if (kind == LayerKind::Connected) {
    const size_t n = static_cast<size_t>(connected.outputs);
    return n + n * input.elements() + (connected.batchNormalize ? 3 * n : 0);
  }
  return 0;
}

NetworkSpec parseNetworkCfg(const std::string& cfgText) {
  const std::vector<CfgSection> sections = splitCfgSections(cfgText);
  if (sections.empty()) throw DetectorError(ErrorCode::BadCfg, "cfg:1: no sections (expected [net] first)");
  const CfgSection& netSection = sections.front();
  const SectionOptions net(netSection);
  if (netSection.type != "net" && netSection.type != "network") {
    net.fail("", "the first section must be [net], got [" + netSection.type + "]");
  }
  NetworkSpec spec;
  spec.input = Shape{net.integer("channels", 0), net.integer("height", 0), net.integer("width", 0)};
  checkShape(net, spec.input, "network input");
  if (sections.size() - 1 > kMaxLayers) net.fail("", "too many layers");
  if (sections.size() == 1) net.fail("", "the network has no layers");

  for (size_t s = 1; s < sections.size(); ++s) {
    const CfgSection& section = sections[s];
    const SectionOptions options(section);
    LayerSpec layer;
    layer.index = static_cast<int>(spec.layers.size());
    layer.cfgLine = section.line;
    layer.input = spec.layers.empty() ? spec.input : spec.layers.back().output;
    layer.inputs.push_back(layer.index - 1);
    const std::string& type = section.type;
    if (type == "convolutional" || type == "conv") {
      layer.kind = LayerKind::Convolutional;
      parseConvolutional(options, layer);
    } else if (type == "maxpool" || type == "max") {
      layer.kind = LayerKind::MaxPool;
      parseMaxPool(options, layer);
    } else if (type == "route") {
      layer.kind = LayerKind::Route;
      parseRoute(options, layer, spec.layers);
    } else if (type == "reorg") {
      layer.kind = LayerKind::Reorg;
      parseReorg(options, layer);
    } else if (type == "shortcut") {
      layer.kind = LayerKind::Shortcut;
      parseShortcut(options, layer, spec.layers);
    } else if (type == "avgpool" || type == "avg") {
      layer.kind = LayerKind::AvgPool;
      layer.output = Shape{layer.input.channels, 1, 1};
    } else if (type == "connected" || type == "conn") {
      layer.kind = LayerKind::Connected;
      parseConnected(options, layer);
    } else if (type == "softmax" || type == "soft") {
      layer.kind = LayerKind::Softmax;
      parseSoftmax(options, layer);
    } else if (type == "region") {
      layer.kind = LayerKind::Region;
      parseRegion(options, layer);
      if (s + 1 != sections.size()) options.fail("", "[region] must be the last layer");
    } else if (type == "net" || type == "network") {
      options.fail("", "[" + type + "] may only appear first");
    } else {
      options.fail("", "unsupported layer type [" + type + "]");
    }
    checkShape(options, layer.output, "output");
    spec.layers.push_back(std::move(layer));
  }
  return spec;
}

}  // namespace emofleet
