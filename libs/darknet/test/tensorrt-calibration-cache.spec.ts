import { join } from 'path';
import { onnx } from 'onnx-proto';
import {
  CalibrationCacheError,
  exportOnnx,
  float32BigEndianHex,
  loadCfg,
  onnxTensorRanges,
  randomWeights,
  tensorRtCalibrationCache,
  tensorRtVersionNumber,
  type Network,
  type NetworkActivationRanges,
} from '../src';

// Written without a GPU: the format follows TensorRT's documented cache text; no TensorRT build has read these files.
const MODELS = join(__dirname, '..', 'models');

/** Made-up ranges for every layer: output [-(i+1)/10, i+1], pre-activation ten times wider below 0. */
function rangesFor(network: Network): NetworkActivationRanges {
  return {
    input: { min: 0, max: 1 },
    layers: network.layers.map((layer) => ({
      index: layer.index,
      output: { min: -(layer.index + 1) / 10, max: layer.index + 1 },
      ...(layer.type === 'convolutional' && layer.activation === 'leaky'
        ? { preActivation: { min: -(layer.index + 1), max: layer.index + 1 } }
        : {}),
    })),
  };
}

function tensorNamesOf(model: Uint8Array): Set<string> {
  const graph = onnx.ModelProto.decode(model).graph as onnx.IGraphProto;
  return new Set([
    ...(graph.input ?? []).map((input) => input.name ?? ''),
    ...(graph.node ?? []).flatMap((node) => node.output ?? []),
  ]);
}

describe('TensorRT INT8 calibration cache', () => {
  it('encodes versions and scales as TensorRT does', () => {
    expect(tensorRtVersionNumber('8.2.1')).toBe(8201);
    expect(tensorRtVersionNumber('7.1.3')).toBe(7103);
    expect(tensorRtVersionNumber('10.3.0')).toBe(10300);
    expect(() => tensorRtVersionNumber('8.2')).toThrow(CalibrationCacheError);
    // 1.0 and a value from NVIDIA's forum thread on reading caches (3c92aa10 -> 0.0179033577).
    expect(float32BigEndianHex(1)).toBe('3f800000');
    expect(float32BigEndianHex(0.0179033577)).toBe('3c92aa10');
  });

  it.each(['yolov2-tiny-expression.cfg', 'yolov2-expression.cfg'])(
    '%s: one line per calibrated tensor, every name a tensor of the ONNX export',
    (file) => {
      const network = loadCfg(join(MODELS, file));
      const ranges = rangesFor(network);
      const cache = tensorRtCalibrationCache(network, ranges, '8.2.1');
      const [header, ...lines] = cache.trimEnd().split('\n');
      expect(header).toBe('TRT-8201-EntropyCalibration2');
      const names = tensorNamesOf(exportOnnx(network, randomWeights(network, 1)));
      const entries = lines.map((line) => {
        const match = /^(\S+): ([0-9a-f]{8})$/.exec(line);
        expect(match).not.toBeNull();
        return { tensor: match?.[1] ?? '', hex: match?.[2] ?? '' };
      });
      for (const { tensor } of entries) expect(names).toContain(tensor);
      expect(new Set(entries.map((entry) => entry.tensor)).size).toBe(entries.length);
      const find = (tensor: string) => entries.find((entry) => entry.tensor === tensor)?.hex;
      expect(find('input')).toBe(float32BigEndianHex(1 / 127));
      expect(find('layer0')).toBe(float32BigEndianHex(1 / 127)); // max(|-0.1|, 1) / 127
      expect(find('layer0_linear')).toBe(float32BigEndianHex(1 / 127));
      expect(find('layer2')).toBe(float32BigEndianHex(3 / 127));
      const last = onnxTensorRanges(network, ranges).find(([tensor]) => tensor === 'raw');
      expect(last?.[1]).toEqual(ranges.layers[network.layers.length - 2]?.output);
      // Every conv, maxpool, route and reorg output the export computes has a line.
      const computed = network.layers.filter((layer) => layer.type !== 'region');
      for (const layer of computed) expect(find(`layer${layer.index}`)).toBeDefined();
    },
  );

  it('names the layer a calibration missed', () => {
    const network = loadCfg(join(MODELS, 'yolov2-tiny-expression.cfg'));
    const ranges = rangesFor(network);
    const partial = { ...ranges, layers: ranges.layers.filter((layer) => layer.index !== 4) };
    expect(() => tensorRtCalibrationCache(network, partial, '8.2.1')).toThrow(
      /layer 4 \(\[convolutional\]\) has no calibrated range/,
    );
  });
});
