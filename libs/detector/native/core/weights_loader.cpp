#include "weights_loader.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "batch_norm_fold.hpp"
#include "detector_error.hpp"

namespace emofleet {
namespace {

template <typename T>
T readLittleEndian(const uint8_t* bytes) {
  T value;
  std::memcpy(&value, bytes, sizeof(T));  // darknet writes host order; every supported target is little-endian
  return value;
}

class FloatReader {
 public:
  FloatReader(const uint8_t* data, size_t size, size_t offset, size_t expectedTotal)
      : data_(data), size_(size), offset_(offset), expectedTotal_(expectedTotal) {}

  void read(float* out, size_t count, const LayerSpec& layer, const char* what) {
    const size_t bytes = count * sizeof(float);
    if (size_ - offset_ < bytes) {
      throw DetectorError(ErrorCode::BadWeights,
                          "weights: expected " + std::to_string(expectedTotal_) + " bytes, got " +
                              std::to_string(size_) + ", ran out in layer " + std::to_string(layer.index) + " (" +
                              layerKindName(layer.kind) + " " + what + ", cfg line " +
                              std::to_string(layer.cfgLine) + ", byte offset " + std::to_string(offset_) + ")");
    }
    std::memcpy(out, data_ + offset_, bytes);
    for (size_t i = 0; i < count; ++i) {
      if (!std::isfinite(out[i])) {
        throw DetectorError(ErrorCode::BadWeights, "weights: non-finite value in layer " + std::to_string(layer.index) +
                                                       " " + what + " at byte offset " +
                                                       std::to_string(offset_ + i * sizeof(float)));
      }
    }
    offset_ += bytes;
  }

  size_t offset() const { return offset_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_;
  size_t expectedTotal_;
};

LayerParameters loadLayer(const LayerSpec& layer, FloatReader& reader) {
  LayerParameters params;
  size_t channels = 0;
  size_t perChannel = 0;
  bool batchNormalize = false;
  if (layer.kind == LayerKind::Convolutional) {
    const ConvolutionParams& p = layer.convolution;
    channels = static_cast<size_t>(p.filters);
    perChannel = static_cast<size_t>(layer.input.channels / p.groups) * static_cast<size_t>(p.size * p.size);
    batchNormalize = p.batchNormalize;
  } else {
    channels = static_cast<size_t>(layer.connected.outputs);
    perChannel = layer.input.elements();
    batchNormalize = layer.connected.batchNormalize;
  }
  params.bias.resize(channels);
  params.weights.resize(channels * perChannel);
  std::vector<float> gamma;
  std::vector<float> mean;
  std::vector<float> variance;
  reader.read(params.bias.data(), channels, layer, "biases");
  const auto readBatchNorm = [&]() {
    gamma.resize(channels);
    mean.resize(channels);
    variance.resize(channels);
    reader.read(gamma.data(), channels, layer, "batch-norm scales");
    reader.read(mean.data(), channels, layer, "batch-norm means");
    reader.read(variance.data(), channels, layer, "batch-norm variances");
  };
  // darknet's order: conv = biases, [scales, means, variances], weights; connected = biases, weights, [bn].
  if (layer.kind == LayerKind::Convolutional && batchNormalize) readBatchNorm();
  reader.read(params.weights.data(), params.weights.size(), layer, "weights");
  if (layer.kind == LayerKind::Connected && batchNormalize) readBatchNorm();
  if (batchNormalize) {
    for (size_t c = 0; c < channels; ++c) {
      if (variance[c] < 0) {
        throw DetectorError(ErrorCode::BadWeights, "weights: negative batch-norm variance in layer " +
                                                       std::to_string(layer.index) + " channel " + std::to_string(c));
      }
    }
    foldBatchNorm(params.weights.data(), params.bias.data(), gamma.data(), mean.data(), variance.data(), channels,
                  perChannel);
  }
  return params;
}

}  // namespace

WeightsHeader readWeightsHeader(const uint8_t* data, size_t size) {
  if (size < 12) {
    throw DetectorError(ErrorCode::BadWeights,
                        "weights: expected at least 12 header bytes, got " + std::to_string(size));
  }
  WeightsHeader header;
  header.major = readLittleEndian<int32_t>(data);
  header.minor = readLittleEndian<int32_t>(data + 4);
  header.revision = readLittleEndian<int32_t>(data + 8);
  if (header.major > 1000 || header.minor > 1000 || header.major < 0 || header.minor < 0) {
    throw DetectorError(ErrorCode::BadWeights, "weights: version " + std::to_string(header.major) + "." +
                                                   std::to_string(header.minor) +
                                                   " is not a darknet weights header (or uses transposed layout)");
  }
  // darknet parser.c load_weights_upto: `seen` is a size_t when major*10+minor >= 2, else an int.
  const bool wideSeen = header.major * 10 + header.minor >= 2;
  const size_t length = wideSeen ? 20 : 16;
  if (size < length) {
    throw DetectorError(ErrorCode::BadWeights, "weights: expected " + std::to_string(length) +
                                                   " header bytes for version " + std::to_string(header.major) + "." +
                                                   std::to_string(header.minor) + ", got " + std::to_string(size));
  }
  header.seen = wideSeen ? readLittleEndian<uint64_t>(data + 12) : readLittleEndian<uint32_t>(data + 12);
  header.byteLength = length;
  return header;
}

size_t expectedWeightsBytes(const NetworkSpec& spec, size_t headerBytes) {
  size_t total = headerBytes;
  for (const LayerSpec& layer : spec.layers) total += layer.storedParameterCount() * sizeof(float);
  return total;
}

LoadedWeights loadWeights(const NetworkSpec& spec, const uint8_t* data, size_t size) {
  LoadedWeights loaded;
  loaded.header = readWeightsHeader(data, size);
  const size_t expected = expectedWeightsBytes(spec, loaded.header.byteLength);
  if (size < expected) {
    // Find the layer where the bytes run out before allocating anything for it.
    size_t offset = loaded.header.byteLength;
    for (const LayerSpec& layer : spec.layers) {
      const size_t bytes = layer.storedParameterCount() * sizeof(float);
      if (offset + bytes > size) {
        throw DetectorError(ErrorCode::BadWeights,
                            "weights: expected " + std::to_string(expected) + " bytes, got " + std::to_string(size) +
                                ", ran out in layer " + std::to_string(layer.index) + " (" +
                                layerKindName(layer.kind) + ", cfg line " + std::to_string(layer.cfgLine) +
                                ", starting at byte offset " + std::to_string(offset) + ")");
      }
      offset += bytes;
    }
  }
  FloatReader reader(data, size, loaded.header.byteLength, expected);
  loaded.layers.resize(spec.layers.size());
  for (const LayerSpec& layer : spec.layers) {
    if (layer.kind == LayerKind::Convolutional || layer.kind == LayerKind::Connected) {
      loaded.layers[static_cast<size_t>(layer.index)] = loadLayer(layer, reader);
    }
  }
  if (reader.offset() != size) {
    throw DetectorError(ErrorCode::BadWeights, "weights: expected " + std::to_string(expected) + " bytes, got " +
                                                   std::to_string(size) + ": " + std::to_string(size - reader.offset()) +
                                                   " trailing bytes after the last layer (cfg and weights do not match)");
  }
  return loaded;
}

}  // namespace emofleet
