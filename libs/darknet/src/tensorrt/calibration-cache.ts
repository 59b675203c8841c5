import type { Network } from '../network/types';
import { layersNeededFor, rawOutputs } from '../reference/graph';

/** A calibrated real range of one tensor. */
export interface ActivationRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Calibrated ranges of a network's tensors by darknet layer: the network input, each layer's output and, for
 * convolutions with a leaky activation, the output before it (the `layer<N>_linear` tensor of the ONNX export).
 */
export interface NetworkActivationRanges {
  readonly input: ActivationRange;
  readonly layers: ReadonlyArray<{
    readonly index: number;
    readonly output: ActivationRange;
    readonly preActivation?: ActivationRange;
  }>;
}

export class CalibrationCacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalibrationCacheError';
  }
}

/** TensorRT releases as the cache header spells them: 8.2.1 → 8201 (major·1000 + minor·100 + patch). */
export function tensorRtVersionNumber(version: string): number {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match)
    throw new CalibrationCacheError(`TensorRT version '${version}' is not major.minor.patch (e.g. 8.2.1)`);
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (minor > 9 || patch > 99)
    throw new CalibrationCacheError(`TensorRT version '${version}' is out of range`);
  return major * 1000 + minor * 100 + patch;
}

/** The IEEE-754 float32 bits of `value`, big-endian, as 8 lowercase hex digits (TensorRT's cache encoding). */
export function float32BigEndianHex(value: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, false);
  return view.getUint32(0, false).toString(16).padStart(8, '0');
}

/**
 * Which tensors of `exportOnnx(network)` carry which darknet values: `input`, `layer<N>` (a layer's output),
 * `layer<N>_linear` (a convolution or shortcut before its activation), the reorg's intermediate reshapes and the
 * `raw` outputs. Returns [ONNX tensor name, range] for every tensor whose range calibration measured.
 */
export function onnxTensorRanges(
  network: Network,
  ranges: NetworkActivationRanges,
): Array<[tensor: string, range: ActivationRange]> {
  const byLayer = new Map(ranges.layers.map((layer) => [layer.index, layer]));
  const outputs = rawOutputs(network);
  const entries: Array<[string, ActivationRange]> = [['input', ranges.input]];
  for (const index of layersNeededFor(network, outputs)) {
    const layer = network.layers[index];
    const measured = byLayer.get(index);
    if (!layer) continue;
    if (!measured) {
      throw new CalibrationCacheError(
        `${network.source}: layer ${index} ([${layer.type}]) has no calibrated range; calibrate every layer the ` +
          'export computes',
      );
    }
    const name = `layer${index}`;
    if (layer.type === 'convolutional' && layer.activation !== 'linear' && measured.preActivation) {
      entries.push([`${name}_linear`, measured.preActivation]);
    }
    if (layer.type === 'reorg') {
      entries.push([`${name}_blocks`, measured.output], [`${name}_moved`, measured.output]);
    }
    entries.push([name, measured.output]);
  }
  for (const output of outputs) {
    const measured = byLayer.get(output.layerIndex);
    if (measured) entries.push([output.name, measured.output]);
  }
  return entries;
}

/**
 * A TensorRT INT8 calibration cache (the text `IInt8EntropyCalibrator2::writeCalibrationCache` writes, which
 * `trtexec --int8 --calib=<file>` reads instead of calibrating): the header `TRT-<version>-EntropyCalibration2`,
 * then one line `<tensor>: <scale>` per ONNX tensor, the scale being TensorRT's symmetric int8 step
 * max(|min|, |max|) / 127 as big-endian float32 hex. Tensor names are those of libs/darknet's ONNX export.
 * TensorRT uses a cache only when header version and calibrator match the build. Not verified on a device here.
 */
export function tensorRtCalibrationCache(
  network: Network,
  ranges: NetworkActivationRanges,
  tensorRtVersion: string,
): string {
  const lines = [`TRT-${tensorRtVersionNumber(tensorRtVersion)}-EntropyCalibration2`];
  for (const [tensor, range] of onnxTensorRanges(network, ranges)) {
    const amax = Math.max(Math.abs(range.min), Math.abs(range.max));
    if (!Number.isFinite(amax)) throw new CalibrationCacheError(`tensor ${tensor}: range is not finite`);
    // A tensor that was zero on every calibration image still needs a positive scale: give it the range ±1.
    lines.push(`${tensor}: ${float32BigEndianHex((amax > 0 ? amax : 1) / 127)}`);
  }
  return `${lines.join('\n')}\n`;
}
