import { DarknetModelBuilder, type DarknetModel } from './darknet-model-builder';
import { depthwiseToOihw, hwioToOihw } from './kernel-layout';
import { tensorOf, type TfjsWeightMap } from './tfjs-weights';

/** face-api's `tiny_face_detector_model` (src/tinyFaceDetector/const.ts and TinyFaceDetector.ts). */
export const TINY_FACE_DETECTOR = {
  modelName: 'tiny_face_detector_model',
  /** face-api's default `inputSize`; any multiple of 32 works with the same weights. */
  inputSize: 416,
  /** Subtracted from 0..255 RGB before dividing by 255 (folded into the first convolution here). */
  meanRgb: [117.001, 114.697, 97.404] as const,
  /** (w, h) in grid cells. */
  anchors: [
    [1.603231, 2.094468],
    [6.041143, 7.080126],
    [2.882459, 3.518061],
    [4.266906, 5.178857],
    [9.041765, 10.66308],
  ] as const,
  /** conv0 output, then the five separable convolutions. */
  filterSizes: [16, 32, 64, 128, 256, 512] as const,
  /** x, y, w, h, objectness per anchor; face-api has no class channel for its single class. */
  boxEncodingSize: 5,
  /** Face-api's non-maximum suppression IoU and default score threshold. */
  iouThreshold: 0.4,
  scoreThreshold: 0.5,
} as const;

/** Darknet `[region]` channels per anchor with one class: x, y, w, h, objectness, class. */
export const REGION_ENTRIES_PER_ANCHOR = 6;

/**
 * Converts the tiny face detector to darknet.
 *
 * face-api: `x = (rgb - meanRgb) / 255` (after padding the image to a square with zeros at the bottom/right
 * and a bilinear resize), conv0 3x3 `valid` + bias, leaky(0.1); maxpool 2/2 `same`; five times
 * [3x3 depthwise (zero pad 1) -> 1x1 pointwise + bias, leaky], each followed by maxpool 2/2 `same`, the last
 * by maxpool 2/1 `same`; conv8 1x1 + bias, 25 channels = 5 anchors x (x, y, w, h, objectness).
 *
 * Darknet, exactly: the network takes `rgb / 255`; the mean moves into conv0's bias
 * (`b' = b - sum W * mean / 255`), which is exact because conv0 has no padding, so every window sees
 * only image values. TF's `same` maxpool 2x2 pads 0 before / 1 after and ignores the pad, which is darknet's
 * default `padding = size - 1` (window offset `-padding/2 = 0`, padded values never win). A separable
 * convolution becomes a depthwise `[convolutional]` (`groups = channels`, zero bias, linear) followed by a
 * 1x1 `[convolutional]` with the bias and the activation. conv8 gets a sixth, all-zero channel per anchor
 * (the class logit) so darknet's `[region]` with `classes=1, softmax=1` sees 30 channels; softmax over one
 * class is exactly 1, so darknet's score `objectness * class` equals face-api's `sigmoid(objectness)`.
 */
export function convertTinyFaceDetector(weights: TfjsWeightMap, source: string): DarknetModel {
  const spec = TINY_FACE_DETECTOR;
  const tensor = (name: string, shape: readonly number[]): Float32Array =>
    tensorOf(weights, source, name, shape);
  const builder = new DarknetModelBuilder(
    'tiny-face-detector',
    { width: spec.inputSize, height: spec.inputSize, channels: 3 },
    [
      `face-api ${spec.modelName}, converted by emofleet model import-faceapi.`,
      'Input: RGB / 255 after padding the image to a square with zeros at the bottom/right (the mean is in conv0).',
    ],
  );

  const [first, ...separable] = spec.filterSizes;
  const conv0Kernel = hwioToOihw(tensor('conv0/filters', [3, 3, 3, first]), 3, 3, first);
  const conv0Bias = Float32Array.from(tensor('conv0/bias', [first]));
  for (let filter = 0; filter < first; filter += 1) {
    let shift = 0;
    for (let channel = 0; channel < 3; channel += 1) {
      let kernelSum = 0;
      for (let k = 0; k < 9; k += 1) kernelSum += conv0Kernel[(filter * 3 + channel) * 9 + k]!;
      shift += (kernelSum * spec.meanRgb[channel]!) / 255;
    }
    conv0Bias[filter] = conv0Bias[filter]! - shift;
  }
  builder.convolutional({
    filters: first,
    size: 3,
    stride: 1,
    padding: 0,
    activation: 'leaky',
    kernel: conv0Kernel,
    biases: conv0Bias,
  });
  builder.maxpool(2, 2);

  let channels: number = first;
  separable.forEach((filters, position) => {
    const prefix = `conv${position + 1}`;
    builder.convolutional({
      filters: channels,
      size: 3,
      stride: 1,
      padding: 1,
      groups: channels,
      activation: 'linear',
      kernel: depthwiseToOihw(tensor(`${prefix}/depthwise_filter`, [3, 3, channels, 1]), 3, channels),
      biases: new Float32Array(channels),
    });
    builder.convolutional({
      filters,
      size: 1,
      stride: 1,
      padding: 0,
      activation: 'leaky',
      kernel: hwioToOihw(
        tensor(`${prefix}/pointwise_filter`, [1, 1, channels, filters]),
        1,
        channels,
        filters,
      ),
      biases: tensor(`${prefix}/bias`, [filters]),
    });
    builder.maxpool(2, position === separable.length - 1 ? 1 : 2);
    channels = filters;
  });

  const anchors = spec.anchors.length;
  const tfChannels = anchors * spec.boxEncodingSize;
  const headKernel = hwioToOihw(
    tensor('conv8/filters', [1, 1, channels, tfChannels]),
    1,
    channels,
    tfChannels,
  );
  const headBias = tensor('conv8/bias', [tfChannels]);
  const regionChannels = anchors * REGION_ENTRIES_PER_ANCHOR;
  const kernel = new Float32Array(regionChannels * channels);
  const biases = new Float32Array(regionChannels);
  for (let anchor = 0; anchor < anchors; anchor += 1) {
    for (let entry = 0; entry < spec.boxEncodingSize; entry += 1) {
      const from = anchor * spec.boxEncodingSize + entry;
      const to = anchor * REGION_ENTRIES_PER_ANCHOR + entry;
      kernel.set(headKernel.subarray(from * channels, (from + 1) * channels), to * channels);
      biases[to] = headBias[from]!;
    }
  }
  builder.convolutional({
    filters: regionChannels,
    size: 1,
    stride: 1,
    padding: 0,
    activation: 'linear',
    kernel,
    biases,
  });
  builder.region({ anchors: spec.anchors.flat(), classes: 1, num: anchors, softmax: true });
  return builder.build();
}
