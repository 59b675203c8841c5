/**
 * @jest-environment ./test/support/onnxruntime-environment.js
 */
import { onnx } from 'onnx-proto';
import {
  exportOnnx,
  exportQdqOnnx,
  ExportError,
  foldBatchNorm,
  parseCfg,
  quantizePerChannelInt8,
  randomWeights,
  seededInputs,
  type Network,
  type QdqConvolution,
} from '../src';
import { runOnnx } from '../src/verify/onnx-runner';

// Two convolutions (3x3 with batch norm + leaky, then a strided 3x3 with relu) and a 1x1 linear one.
const CFG = `
[net]
width=11
height=9
channels=3
[convolutional]
batch_normalize=1
filters=6
size=3
stride=1
pad=1
activation=leaky
[convolutional]
filters=5
size=3
stride=2
pad=1
activation=relu
[convolutional]
filters=4
size=1
stride=1
activation=linear
`;

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  return fraction > 0.5 || (fraction === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
}

/** QuantizeLinear then DequantizeLinear of one value, as the ONNX operators define them (u8, round half to even). */
function fakeQuantize(value: number, scale: number, zeroPoint: number): number {
  const q = Math.max(0, Math.min(255, roundHalfEven(value / scale) + zeroPoint));
  return (q - zeroPoint) * scale;
}

/** The QDQ network written out as its definition: fake-quantised input, int8 weights, int32 bias, requantised output. */
function qdqReference(
  network: Network,
  input: Float32Array,
  layers: readonly QdqConvolution[],
): Float32Array {
  const folded = foldBatchNorm(network, randomWeights(network, 3)).weights.layers;
  let values: Float64Array = Float64Array.from(input);
  for (const layer of network.layers) {
    if (layer.type !== 'convolutional') throw new Error('convolutions only');
    const quantization = layers.find((item) => item.index === layer.index);
    const weights = folded[layer.index];
    if (!quantization || !weights) throw new Error('every layer is quantised');
    const [channels, height, width] = layer.inputShape;
    const [filters, outHeight, outWidth] = layer.outputShape;
    const x = values.map((v) => fakeQuantize(v, quantization.input.scale, quantization.input.zeroPoint));
    const kernel = quantizePerChannelInt8(weights.weights, filters);
    const output = new Float64Array(filters * outHeight * outWidth);
    for (let f = 0; f < filters; f += 1) {
      const weightScale = kernel.scales[f] ?? 1;
      const biasScale = Math.fround(weightScale * quantization.input.scale);
      const bias = Math.round((weights.biases[f] ?? 0) / biasScale) * biasScale;
      for (let oy = 0; oy < outHeight; oy += 1) {
        for (let ox = 0; ox < outWidth; ox += 1) {
          let sum = bias;
          for (let c = 0; c < channels; c += 1) {
            for (let ky = 0; ky < layer.size; ky += 1) {
              for (let kx = 0; kx < layer.size; kx += 1) {
                const iy = oy * layer.stride - layer.padding + ky;
                const ix = ox * layer.stride - layer.padding + kx;
                if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                const k = ((f * channels + c) * layer.size + ky) * layer.size + kx;
                sum += (kernel.values[k] ?? 0) * weightScale * (x[(c * height + iy) * width + ix] ?? 0);
              }
            }
          }
          const out = quantization.output;
          const requantized = out ? fakeQuantize(sum, out.scale, out.zeroPoint) : sum;
          output[(f * outHeight + oy) * outWidth + ox] =
            layer.activation === 'leaky' && requantized < 0
              ? 0.1 * requantized
              : layer.activation === 'relu'
                ? Math.max(0, requantized)
                : requantized;
        }
      }
    }
    values = output;
  }
  return Float32Array.from(values);
}

describe('per-channel int8 weights', () => {
  it('match the cpu engine: scale max|w|/127, round half to even, all-zero rows get scale 1', () => {
    const kernel = new Float32Array([127, 2.5, -2.5, 3.5, -0.4, 0, 0, 0, 0, 0]);
    const { values, scales } = quantizePerChannelInt8(kernel, 2);
    expect([...scales]).toEqual([1, 1]);
    expect([...values]).toEqual([127, 2, -2, 4, 0, 0, 0, 0, 0, 0]);
    const small = quantizePerChannelInt8(new Float32Array([0.5, -0.25]), 1);
    expect(small.scales[0]).toBe(Math.fround(0.5 / 127));
    expect([...small.values]).toEqual([127, -64]); // -63.5 rounds to the even -64
  });
});

describe('QDQ ONNX export', () => {
  const network = parseCfg(CFG, 'qdq.cfg');
  const weights = randomWeights(network, 3);
  const layers: QdqConvolution[] = [
    { index: 0, input: { scale: 1 / 255, zeroPoint: 0 }, output: { scale: 0.05, zeroPoint: 100 } },
    { index: 1, input: { scale: 0.03, zeroPoint: 40 }, output: { scale: 0.04, zeroPoint: 0 } },
    { index: 2, input: { scale: 0.02, zeroPoint: 0 }, output: { scale: 0.06, zeroPoint: 128 } },
  ];

  it('runs in onnxruntime and computes the QDQ definition (within one output step)', async () => {
    const inputs = seededInputs(network, 3, 41);
    // Unfused: onnxruntime runs the graph as written (dequantise, float convolution, quantise), the same on every
    // CPU. Fused into QLinearConv its integer kernels differ per CPU: on AVX2 without VNNI, u8 x s8 products are
    // summed in saturating 16-bit pairs (vpmaddubsw), two output steps off here.
    const qdq = await runOnnx(exportQdqOnnx(network, weights, layers), network.inputShape, inputs, ['raw'], {
      graphOptimization: 'disabled',
    });
    const fp32 = await runOnnx(exportOnnx(network, weights), network.inputShape, inputs, ['raw']);
    inputs.forEach((input, item) => {
      const actual = qdq.get('raw')?.[item] ?? new Float32Array();
      const expected = qdqReference(network, input, layers);
      expect(actual).toHaveLength(expected.length);
      let worst = 0;
      let differs = 0;
      actual.forEach((value, i) => {
        worst = Math.max(worst, Math.abs(value - (expected[i] ?? 0)));
        if (value !== (fp32.get('raw')?.[item]?.[i] ?? 0)) differs += 1;
      });
      // float accumulation order can move a value across a rounding boundary: at most one output step (0.06).
      expect(worst).toBeLessThanOrEqual(0.06 + 1e-6);
      expect(differs).toBeGreaterThan(actual.length / 2); // it really is quantised
    });
  });

  it('writes QuantizeLinear/DequantizeLinear around each convolution with s8 per-channel weights', () => {
    const model = onnx.ModelProto.decode(exportQdqOnnx(network, weights, layers));
    const graph = model.graph as onnx.IGraphProto;
    const ops = (graph.node ?? []).map((node) => node.opType);
    expect(ops.filter((op) => op === 'QuantizeLinear')).toHaveLength(6);
    expect(ops.filter((op) => op === 'DequantizeLinear')).toHaveLength(12);
    const initializer = (name: string) => (graph.initializer ?? []).find((tensor) => tensor.name === name);
    expect(initializer('layer0_weights_q')?.dataType).toBe(onnx.TensorProto.DataType.INT8);
    expect(initializer('layer0_weights_scale')?.dims?.map(Number)).toEqual([6]);
    expect(initializer('layer0_bias_q')?.dataType).toBe(onnx.TensorProto.DataType.INT32);
    expect(initializer('layer0_input_zero_point')?.dataType).toBe(onnx.TensorProto.DataType.UINT8);
    const weightsNode = (graph.node ?? []).find((node) => node.output?.[0] === 'layer0_weights');
    expect(weightsNode?.attribute?.[0]?.name).toBe('axis');
    expect(Number(weightsNode?.attribute?.[0]?.i)).toBe(0);
    expect((graph.output ?? []).map((output) => output.name)).toEqual(['raw']);
  });

  it('refuses layers it cannot quantise, naming them', () => {
    const pooled = parseCfg(`${CFG}\n[maxpool]\nsize=2\nstride=2\n`, 'pooled.cfg');
    const pooledWeights = randomWeights(pooled, 3);
    const refuse =
      (items: QdqConvolution[], net = network, w = weights) =>
      () =>
        exportQdqOnnx(net, w, items);
    const input = { scale: 0.1, zeroPoint: 0 };
    expect(refuse([{ index: 3, input }], pooled, pooledWeights)).toThrow(
      /layer 3 \(\[maxpool\]\): is \[maxpool\]; only convolutional layers/,
    );
    expect(refuse([{ index: 9, input }])).toThrow(/layer 9 does not exist/);
    expect(refuse([{ index: 0, input: { scale: 0, zeroPoint: 0 } }])).toThrow(/layer 0 .*input scale 0/);
    expect(refuse([{ index: 0, input: { scale: 0.1, zeroPoint: 256 } }])).toThrow(/input zero point 256/);
    expect(refuse([{ index: 1, input, output: { scale: 0.1, zeroPoint: 3 } }])).toThrow(
      /relu output .* must be 0/,
    );
    expect(
      refuse([
        { index: 0, input },
        { index: 0, input },
      ]),
    ).toThrow(ExportError);
  });
});
