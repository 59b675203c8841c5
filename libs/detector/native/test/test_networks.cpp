#include "test_networks.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace emofleet_test {

using namespace emofleet;

namespace {

void append(std::vector<uint8_t>& bytes, const void* data, size_t size) {
  const auto* begin = static_cast<const uint8_t*>(data);
  bytes.insert(bytes.end(), begin, begin + size);
}

void appendUniform(std::vector<uint8_t>& bytes, std::mt19937& rng, size_t count, float low, float high) {
  std::uniform_real_distribution<float> dist(low, high);
  for (size_t i = 0; i < count; ++i) {
    const float value = dist(rng);
    append(bytes, &value, sizeof value);
  }
}

float activateNaive(float x, Activation a) {
  switch (a) {
    case Activation::Linear: return x;
    case Activation::Leaky: return x > 0 ? x : .1f * x;
    case Activation::Relu: return x > 0 ? x : 0;
    case Activation::Logistic: return 1.f / (1.f + std::exp(-x));
  }
  return x;
}

struct Reader {
  const std::vector<uint8_t>& bytes;
  size_t offset;
  std::vector<float> take(size_t count) {
    std::vector<float> out(count);
    std::memcpy(out.data(), bytes.data() + offset, count * sizeof(float));
    offset += count * sizeof(float);
    return out;
  }
};

void applyBatchNorm(std::vector<float>& out, size_t channels, size_t plane, const std::vector<float>& scales,
                    const std::vector<float>& mean, const std::vector<float>& variance) {
  for (size_t c = 0; c < channels; ++c) {
    for (size_t i = 0; i < plane; ++i) {
      float& v = out[c * plane + i];
      v = (v - mean[c]) / (std::sqrt(variance[c]) + .000001f);
      v *= scales[c];
    }
  }
}

std::vector<float> naiveConvolution(const LayerSpec& layer, const std::vector<float>& in, Reader& reader) {
  const ConvolutionParams& p = layer.convolution;
  const Shape is = layer.input;
  const Shape os = layer.output;
  const size_t n = static_cast<size_t>(p.filters);
  const std::vector<float> biases = reader.take(n);
  std::vector<float> scales, mean, variance;
  if (p.batchNormalize) {
    scales = reader.take(n);
    mean = reader.take(n);
    variance = reader.take(n);
  }
  const int cg = is.channels / p.groups;
  const std::vector<float> weights = reader.take(n * static_cast<size_t>(cg * p.size * p.size));
  std::vector<float> out(os.elements(), 0.f);
  const int filtersPerGroup = p.filters / p.groups;
  for (int f = 0; f < p.filters; ++f) {
    const int g = f / filtersPerGroup;
    for (int oy = 0; oy < os.height; ++oy) {
      for (int ox = 0; ox < os.width; ++ox) {
        double sum = 0;
        for (int c = 0; c < cg; ++c) {
          for (int ky = 0; ky < p.size; ++ky) {
            for (int kx = 0; kx < p.size; ++kx) {
              const int iy = oy * p.stride - p.padding + ky;
              const int ix = ox * p.stride - p.padding + kx;
              if (iy < 0 || ix < 0 || iy >= is.height || ix >= is.width) continue;
              const float w = weights[((static_cast<size_t>(f) * cg + c) * p.size + ky) * p.size + kx];
              sum += w * in[(static_cast<size_t>(g * cg + c) * is.height + iy) * is.width + ix];
            }
          }
        }
        out[(static_cast<size_t>(f) * os.height + oy) * os.width + ox] = static_cast<float>(sum);
      }
    }
  }
  if (p.batchNormalize) applyBatchNorm(out, n, os.plane(), scales, mean, variance);
  for (size_t f = 0; f < n; ++f) {
    for (size_t i = 0; i < os.plane(); ++i) {
      out[f * os.plane() + i] = activateNaive(out[f * os.plane() + i] + biases[f], p.activation);
    }
  }
  return out;
}

std::vector<float> naiveConnected(const LayerSpec& layer, const std::vector<float>& in, Reader& reader) {
  const size_t n = static_cast<size_t>(layer.connected.outputs);
  const size_t inputs = layer.input.elements();
  const std::vector<float> biases = reader.take(n);
  const std::vector<float> weights = reader.take(n * inputs);
  std::vector<float> out(n);
  for (size_t o = 0; o < n; ++o) {
    double sum = 0;
    for (size_t i = 0; i < inputs; ++i) sum += weights[o * inputs + i] * in[i];
    out[o] = static_cast<float>(sum);
  }
  if (layer.connected.batchNormalize) {
    const std::vector<float> scales = reader.take(n), mean = reader.take(n), variance = reader.take(n);
    applyBatchNorm(out, n, 1, scales, mean, variance);
  }
  for (size_t o = 0; o < n; ++o) out[o] = activateNaive(out[o] + biases[o], layer.connected.activation);
  return out;
}

std::vector<float> naiveMaxPool(const LayerSpec& layer, const std::vector<float>& in) {
  const MaxPoolParams& p = layer.maxPool;
  const Shape is = layer.input, os = layer.output;
  std::vector<float> out(os.elements());
  const int offset = -p.padding / 2;
  for (int c = 0; c < os.channels; ++c)
    for (int y = 0; y < os.height; ++y)
      for (int x = 0; x < os.width; ++x) {
        float best = -std::numeric_limits<float>::max();
        for (int n = 0; n < p.size; ++n)
          for (int m = 0; m < p.size; ++m) {
            const int iy = offset + y * p.stride + n, ix = offset + x * p.stride + m;
            if (iy >= 0 && ix >= 0 && iy < is.height && ix < is.width) {
              best = std::max(best, in[(static_cast<size_t>(c) * is.height + iy) * is.width + ix]);
            }
          }
        out[(static_cast<size_t>(c) * os.height + y) * os.width + x] = best;
      }
  return out;
}

// darknet blas.c reorg_cpu, batch loop included, called as forward_reorg_layer does (forward = 0).
void darknetReorg(const float* x, int w, int h, int c, int batch, int stride, int forward, float* out) {
  const int outC = c / (stride * stride);
  for (int b = 0; b < batch; ++b)
    for (int k = 0; k < c; ++k)
      for (int j = 0; j < h; ++j)
        for (int i = 0; i < w; ++i) {
          const int inIndex = i + w * (j + h * (k + c * b));
          const int c2 = k % outC;
          const int offset = k / outC;
          const int w2 = i * stride + offset % stride;
          const int h2 = j * stride + offset / stride;
          const int outIndex = w2 + w * stride * (h2 + h * stride * (c2 + outC * b));
          if (forward) out[outIndex] = x[inIndex];
          else out[inIndex] = x[outIndex];
        }
}

std::vector<float> naiveRegion(const LayerSpec& layer, const std::vector<float>& in) {
  std::vector<float> out = in;
  const RegionParams& r = layer.region;
  const size_t plane = layer.input.plane();
  const size_t perAnchor = static_cast<size_t>(r.coords + 1 + r.classes);
  for (size_t n = 0; n < static_cast<size_t>(r.anchorsPerCell); ++n) {
    for (size_t cell = 0; cell < plane; ++cell) {
      float* base = out.data() + n * perAnchor * plane + cell;
      base[0] = 1.f / (1.f + std::exp(-base[0]));
      base[plane] = 1.f / (1.f + std::exp(-base[plane]));
      base[4 * plane] = 1.f / (1.f + std::exp(-base[4 * plane]));
      if (!r.softmax) continue;
      double sum = 0;
      for (int k = 0; k < r.classes; ++k) sum += std::exp(static_cast<double>(base[(5 + k) * plane]));
      for (int k = 0; k < r.classes; ++k) {
        base[(5 + k) * plane] = static_cast<float>(std::exp(static_cast<double>(base[(5 + k) * plane])) / sum);
      }
    }
  }
  return out;
}

}  // namespace

std::vector<float> randomTensor(size_t count, uint32_t seed, float low, float high) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> values(count);
  for (float& v : values) v = dist(rng);
  return values;
}

std::vector<uint8_t> randomWeights(const NetworkSpec& spec, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes;
  const int32_t version[3] = {0, 2, 0};
  const uint64_t seen = 12345;
  append(bytes, version, sizeof version);
  append(bytes, &seen, sizeof seen);
  for (const LayerSpec& layer : spec.layers) {
    if (layer.kind == LayerKind::Convolutional) {
      const ConvolutionParams& p = layer.convolution;
      const size_t n = static_cast<size_t>(p.filters);
      const size_t fanIn = static_cast<size_t>(layer.input.channels / p.groups * p.size * p.size);
      const float limit = std::sqrt(3.f / static_cast<float>(fanIn));
      appendUniform(bytes, rng, n, -.1f, .1f);
      if (p.batchNormalize) {
        appendUniform(bytes, rng, n, .5f, 1.5f);
        appendUniform(bytes, rng, n, -.1f, .1f);
        appendUniform(bytes, rng, n, .5f, 1.5f);
      }
      appendUniform(bytes, rng, n * fanIn, -limit, limit);
    } else if (layer.kind == LayerKind::Connected) {
      const size_t n = static_cast<size_t>(layer.connected.outputs);
      const float limit = std::sqrt(3.f / static_cast<float>(layer.input.elements()));
      appendUniform(bytes, rng, n, -.1f, .1f);
      appendUniform(bytes, rng, n * layer.input.elements(), -limit, limit);
      if (layer.connected.batchNormalize) {
        appendUniform(bytes, rng, n, .5f, 1.5f);
        appendUniform(bytes, rng, n, -.1f, .1f);
        appendUniform(bytes, rng, n, .5f, 1.5f);
      }
    }
  }
  return bytes;
}

std::vector<std::vector<float>> naiveForward(const NetworkSpec& spec, const std::vector<uint8_t>& weights,
                                             const std::vector<float>& input) {
  Reader reader{weights, 20};
  std::vector<std::vector<float>> outputs;
  for (const LayerSpec& layer : spec.layers) {
    const std::vector<float>& in = layer.index == 0 ? input : outputs[static_cast<size_t>(layer.index - 1)];
    std::vector<float> out;
    switch (layer.kind) {
      case LayerKind::Convolutional: out = naiveConvolution(layer, in, reader); break;
      case LayerKind::Connected: out = naiveConnected(layer, in, reader); break;
      case LayerKind::MaxPool: out = naiveMaxPool(layer, in); break;
      case LayerKind::Route:
        for (int source : layer.inputs) {
          const std::vector<float>& part = outputs[static_cast<size_t>(source)];
          out.insert(out.end(), part.begin(), part.end());
        }
        break;
      case LayerKind::Reorg:
        out.resize(in.size());
        darknetReorg(in.data(), layer.input.width, layer.input.height, layer.input.channels, 1, layer.reorgStride, 0,
                     out.data());
        break;
      case LayerKind::Shortcut: {
        const std::vector<float>& other = outputs[static_cast<size_t>(layer.inputs[1])];
        out.resize(in.size());
        for (size_t i = 0; i < in.size(); ++i) out[i] = activateNaive(in[i] + other[i], layer.shortcutActivation);
        break;
      }
      case LayerKind::AvgPool: {
        const size_t plane = layer.input.plane();
        out.assign(static_cast<size_t>(layer.input.channels), 0.f);
        for (size_t c = 0; c < out.size(); ++c) {
          double sum = 0;
          for (size_t i = 0; i < plane; ++i) sum += in[c * plane + i];
          out[c] = static_cast<float>(sum / static_cast<double>(plane));
        }
        break;
      }
      case LayerKind::Softmax: {
        const size_t groups = static_cast<size_t>(layer.softmax.groups), size = in.size() / groups;
        out.resize(in.size());
        for (size_t g = 0; g < groups; ++g) {
          double sum = 0;
          for (size_t i = 0; i < size; ++i) sum += std::exp(static_cast<double>(in[g * size + i]) / layer.softmax.temperature);
          for (size_t i = 0; i < size; ++i) {
            out[g * size + i] =
                static_cast<float>(std::exp(static_cast<double>(in[g * size + i]) / layer.softmax.temperature) / sum);
          }
        }
        break;
      }
      case LayerKind::Region: out = naiveRegion(layer, in); break;
    }
    outputs.push_back(std::move(out));
  }
  return outputs;
}

double relativeError(const float* actual, const std::vector<float>& expected) {
  double worst = 0;
  double scale = 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(actual[i]) - expected[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(expected[i])));
  }
  return worst / scale;
}

}  // namespace emofleet_test
