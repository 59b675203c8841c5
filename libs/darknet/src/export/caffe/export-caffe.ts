import { basename } from 'path';
import type { Activation, Layer, LayerWeights, Network, NetworkWeights } from '../../network/types';
import { layersNeededFor, rawOutputs } from '../../reference/graph';
import { writeFileAtomic } from '../../util/write-file-atomic';
import { foldedLayerWeights, weightsAt } from '../folded-weights';
import { encodeCaffemodel, formatPrototxt, type CaffeLayer, type CaffeNet } from './caffe-model';
import { planCaffeMaxpool } from './caffe-maxpool';

/** The two files of a Caffe model. */
export interface CaffeExport {
  readonly prototxt: string;
  readonly caffemodel: Uint8Array;
}

const SUM = { enumValue: 'SUM' };

function constant(length: number, value: number): Float32Array {
  return new Float32Array(length).fill(value);
}

/** Builds the layer list; every layer's name equals its single top, so blobs can be requested by layer name. */
class CaffeLayers {
  readonly layers: CaffeLayer[] = [];

  add(layer: Omit<CaffeLayer, 'top'>): string {
    this.layers.push({ ...layer, top: [layer.name] });
    return layer.name;
  }

  /**
   * darknet's activation on `x` (`channels` wide) ending in blob `out`. leaky ReLU is built as the paper did
   * for TensorRT's Caffe parser (native leaky ReLU only arrived in TensorRT 5.1), from the exact identity
   * `leaky(x) = relu(x) - 0.1 * relu(-x)`: ReLU(x); Scale(x, -1) -> ReLU -> Scale(-0.1); Eltwise SUM.
   */
  activate(x: string, channels: number, activation: Exclude<Activation, 'linear'>, out: string): string {
    switch (activation) {
      case 'relu':
        return this.add({ name: out, type: 'ReLU', bottom: [x] });
      case 'logistic':
        return this.add({ name: out, type: 'Sigmoid', bottom: [x] });
      case 'leaky': {
        const scale = (name: string, bottom: string, value: number): string =>
          this.add({
            name,
            type: 'Scale',
            bottom: [bottom],
            params: { scale_param: { axis: 1, num_axes: 1, bias_term: false } },
            blobs: [{ shape: [channels], data: constant(channels, value) }],
          });
        const positive = this.add({ name: `${out}_relu`, type: 'ReLU', bottom: [x] });
        const negated = scale(`${out}_negate`, x, -1);
        const negativePart = this.add({ name: `${out}_relu_negated`, type: 'ReLU', bottom: [negated] });
        const sloped = scale(`${out}_slope`, negativePart, -0.1);
        return this.add({
          name: out,
          type: 'Eltwise',
          bottom: [positive, sloped],
          params: { eltwise_param: { operation: SUM } },
        });
      }
    }
  }

  /** Runs `produce` (which creates the blob named by its argument), then the activation; the last blob is `out`. */
  withActivation(
    produce: (name: string) => string,
    channels: number,
    activation: Activation,
    out: string,
  ): string {
    if (activation === 'linear') return produce(out);
    return this.activate(produce(`${out}_linear`), channels, activation, out);
  }
}

function reshape(dims: readonly number[]): CaffeLayer['params'] {
  return { reshape_param: { shape: { dim: [...dims] } } };
}

function lowerLayer(
  caffe: CaffeLayers,
  network: Network,
  layer: Layer,
  source: (index: number) => string,
  weights: (index: number) => LayerWeights,
  out: string,
): string {
  // The previous layer's tensor; a route does not read it (it may be a detection head).
  const previous = (): string => source(layer.index - 1);
  const [channels, height, width] = layer.inputShape;
  const [outChannels, outHeight, outWidth] = layer.outputShape;
  switch (layer.type) {
    case 'convolutional': {
      const { weights: kernel, biases } = weights(layer.index);
      const convolution = (name: string): string =>
        caffe.add({
          name,
          type: 'Convolution',
          bottom: [previous()],
          params: {
            convolution_param: {
              num_output: layer.filters,
              bias_term: true,
              pad: layer.padding,
              kernel_size: layer.size,
              stride: layer.stride,
              group: layer.groups,
            },
          },
          blobs: [
            { shape: [layer.filters, channels / layer.groups, layer.size, layer.size], data: kernel },
            { shape: [layer.filters], data: biases },
          ],
        });
      return caffe.withActivation(convolution, outChannels, layer.activation, out);
    }
    case 'connected': {
      const { weights: matrix, biases } = weights(layer.index);
      const product = caffe.add({
        name: `${out}_product`,
        type: 'InnerProduct',
        bottom: [previous()],
        params: { inner_product_param: { num_output: layer.output, bias_term: true } },
        blobs: [
          { shape: [layer.output, channels * height * width], data: matrix },
          { shape: [layer.output], data: biases },
        ],
      });
      const nchw = (name: string): string =>
        caffe.add({ name, type: 'Reshape', bottom: [product], params: reshape([0, layer.output, 1, 1]) });
      return caffe.withActivation(nchw, layer.output, layer.activation, out);
    }
    case 'maxpool': {
      const plan = planCaffeMaxpool(network, layer);
      const pool = (name: string): string =>
        caffe.add({
          name,
          type: 'Pooling',
          bottom: [previous()],
          params: {
            pooling_param: {
              pool: { enumValue: 'MAX' },
              kernel_size: layer.size,
              stride: layer.stride,
              pad_h: plan.pad[0],
              pad_w: plan.pad[1],
            },
          },
        });
      if (!plan.cropOffset) return pool(out);
      // Caffe pads symmetrically; the crop drops the leading windows darknet does not have. The pooling
      // input has the output's spatial size (checked by the plan) and serves as the crop's reference.
      return caffe.add({
        name: out,
        type: 'Crop',
        bottom: [pool(`${out}_padded`), previous()],
        params: { crop_param: { axis: 2, offset: [...plan.cropOffset] } },
      });
    }
    case 'avgpool':
      return caffe.add({
        name: out,
        type: 'Pooling',
        bottom: [previous()],
        params: { pooling_param: { pool: { enumValue: 'AVE' }, global_pooling: true } },
      });
    case 'route':
      return caffe.add({
        name: out,
        type: 'Concat',
        bottom: layer.layers.map(source),
        params: { concat_param: { axis: 1 } },
      });
    case 'reorg': {
      // darknet reads [C,H,W] as [C/s², H, s, W, s] and writes it in (dy, dx, c, y, x) order.
      const s = layer.stride;
      const blocks = caffe.add({
        name: `${out}_blocks`,
        type: 'Reshape',
        bottom: [previous()],
        params: reshape([0, channels / (s * s), height, s, width, s]),
      });
      const moved = caffe.add({
        name: `${out}_moved`,
        type: 'Permute',
        bottom: [blocks],
        params: { permute_param: { order: [0, 3, 5, 1, 2, 4] } },
      });
      return caffe.add({
        name: out,
        type: 'Reshape',
        bottom: [moved],
        params: reshape([0, outChannels, outHeight, outWidth]),
      });
    }
    case 'shortcut': {
      const sum = (name: string): string =>
        caffe.add({
          name,
          type: 'Eltwise',
          bottom: [previous(), source(layer.from)],
          params: { eltwise_param: { operation: SUM } },
        });
      return caffe.withActivation(sum, outChannels, layer.activation, out);
    }
    case 'softmax': {
      const total = channels * height * width;
      let grouped = caffe.add({
        name: `${out}_groups`,
        type: 'Reshape',
        bottom: [previous()],
        params: reshape([0, layer.groups, total / layer.groups]),
      });
      if (layer.temperature !== 1) {
        grouped = caffe.add({
          name: `${out}_tempered`,
          type: 'Power',
          bottom: [grouped],
          params: { power_param: { power: 1, scale: 1 / layer.temperature, shift: 0 } },
        });
      }
      const softmax = caffe.add({
        name: `${out}_softmax`,
        type: 'Softmax',
        bottom: [grouped],
        params: { softmax_param: { axis: 2 } },
      });
      return caffe.add({
        name: out,
        type: 'Reshape',
        bottom: [softmax],
        params: reshape([0, channels, height, width]),
      });
    }
    case 'upsample':
      // Nearest-neighbour upsampling is a depthwise deconvolution whose s x s kernel is all `scale`.
      return caffe.add({
        name: out,
        type: 'Deconvolution',
        bottom: [previous()],
        params: {
          convolution_param: {
            num_output: channels,
            bias_term: false,
            kernel_size: layer.stride,
            stride: layer.stride,
            group: channels,
          },
        },
        blobs: [
          {
            shape: [channels, 1, layer.stride, layer.stride],
            data: constant(channels * layer.stride ** 2, layer.scale),
          },
        ],
      });
    case 'region':
    case 'yolo':
      throw new Error(`internal: detection head ${layer.index} is never lowered`);
  }
}

/**
 * Converts a darknet network and its weights to Caffe (`.prototxt` + `.caffemodel`), the form TensorRT's
 * Caffe parser (JetPack <= 4.6) reads.
 *
 * - Input blob `input` `[1, channels, height, width]`, RGB in 0..1. Output blob `raw` (then `raw_1`, ...) =
 *   the layer before each `[region]`/`[yolo]` head, undecoded.
 * - Batch norm is folded into the convolution (darknet's `sqrt(variance) + 1e-6`); no BatchNorm layers.
 * - leaky ReLU = ReLU + Scale + Eltwise (exact identity); route = Concat; reorg = Reshape/Permute/Reshape in
 *   darknet's element order; maxpool = Pooling with padding chosen for Caffe's ceil rounding, plus a Crop for
 *   tiny's `size=2 stride=1` pool; upsample = depthwise Deconvolution; connected = InnerProduct + Reshape.
 */
export function exportCaffe(network: Network, weights: NetworkWeights): CaffeExport {
  const outputs = rawOutputs(network);
  const needed = layersNeededFor(network, outputs);
  const folded = foldedLayerWeights(network, weights);
  const caffe = new CaffeLayers();
  const names = new Map<number, string>([[-1, 'input']]);
  const source = (index: number): string => {
    const name = names.get(index);
    if (name === undefined) throw new Error(`internal: layer ${index} was not lowered before it is used`);
    return name;
  };
  const outputNames = new Map(outputs.map((output) => [output.layerIndex, output.name]));
  for (const index of needed) {
    const layer = network.layers[index];
    if (!layer) continue;
    const out = outputNames.get(index) ?? `layer${index}`;
    names.set(
      index,
      lowerLayer(caffe, network, layer, source, (i) => weightsAt(folded, i), out),
    );
  }
  const net: CaffeNet = {
    name: basename(network.source),
    input: 'input',
    inputShape: [1, ...network.inputShape],
    layers: caffe.layers,
  };
  return { prototxt: formatPrototxt(net), caffemodel: encodeCaffemodel(net) };
}

/** The caffemodel path next to a prototxt path (`model.prototxt` -> `model.caffemodel`). */
export function caffePaths(path: string): { prototxt: string; caffemodel: string } {
  const stem = path.replace(/\.(prototxt|caffemodel)$/, '');
  return { prototxt: `${stem}.prototxt`, caffemodel: `${stem}.caffemodel` };
}

/**
 * Writes `<stem>.prototxt` and `<stem>.caffemodel` for `path` (either name or the bare stem), each atomically
 * (temporary file + rename). Returns the two paths.
 */
export function saveCaffe(
  network: Network,
  weights: NetworkWeights,
  path: string,
): { prototxt: string; caffemodel: string } {
  const exported = exportCaffe(network, weights);
  const paths = caffePaths(path);
  writeFileAtomic(paths.caffemodel, exported.caffemodel);
  writeFileAtomic(paths.prototxt, exported.prototxt);
  return paths;
}
