import { DarknetModelBuilder, type DarknetModel } from './darknet-model-builder';
import { depthwiseToOihw, hwioToOihw, shiftedKernelForSameStride2 } from './kernel-layout';
import { tensorOf, type TfjsWeightMap } from './tfjs-weights';

/** face-api's `face_expression_model` (src/faceExpressionNet, src/faceFeatureExtractor). */
export const FACE_EXPRESSION_NET = {
  modelName: 'face_expression_model',
  inputSize: 112,
  /** Subtracted from 0..255 RGB before dividing by 255 (kept as input normalisation, see below). */
  meanRgb: [122.782, 117.001, 104.298] as const,
  /** Output channels of the four dense blocks. */
  blockChannels: [32, 64, 128, 256] as const,
  labels: ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const,
} as const;

/**
 * Converts the face expression classifier to darknet.
 *
 * face-api: the face crop is padded to a square with zeros on both sides of the short axis (centred), resized
 * bilinearly to 112x112, then `x = (rgb - meanRgb) / 255`. Four dense blocks, each
 *   out1 = relu(conv0(x))    (block 0: 3x3 conv; others: separable; stride 2, TF `same` padding)
 *   out2 = sep1(out1); out3 = sep2(relu(out1 + out2)); out4 = sep3(relu(out1 + out2 + out3))
 *   block = relu(out1 + out2 + out3 + out4)
 * where `sep` is a 3x3 depthwise + 1x1 pointwise + bias, stride 1, `same` (zero pad 1, linear); then a 7x7
 * average pool (global at 7x7), a fully connected 256 -> 7 and softmax.
 *
 * Darknet, exactly:
 *  - stride-2 `same` padding (0 before, 1 after) is a 4x4 kernel with a zero first row/column and
 *    `padding=1` (see `shiftedKernelForSameStride2`);
 *  - the running sums use linear `[shortcut]`s; each relu'd input of the next separable convolution is a
 *    `[route]` copy of the last pointwise output plus a relu `[shortcut]` from the previous linear sum;
 *  - the mean subtraction is NOT folded: conv0 pads with zeros of the normalised input, which no bias change
 *    can reproduce, so the network's input is `(rgb - meanRgb) / 255` and the bundle carries that
 *    normalisation. (Float additions are grouped `((o1 + o2) + o3) + o4` instead of TF's
 *    `o1 + (o2 + (o3 + o4))`; that is rounding only.)
 */
export function convertFaceExpressionNet(weights: TfjsWeightMap, source: string): DarknetModel {
  const spec = FACE_EXPRESSION_NET;
  const tensor = (name: string, shape: readonly number[]): Float32Array =>
    tensorOf(weights, source, name, shape);
  const builder = new DarknetModelBuilder(
    'face-expression',
    { width: spec.inputSize, height: spec.inputSize, channels: 3 },
    [
      `face-api ${spec.modelName}, converted by emofleet model import-faceapi.`,
      `Input: (RGB - [${spec.meanRgb.join(', ')}]) / 255 of the face padded to a centred square.`,
      `Output: softmax over ${spec.labels.join(', ')}.`,
    ],
  );

  /** Depthwise 3x3 (stride 1, or stride 2 with TF `same` padding) then pointwise + bias. */
  const separable = (
    prefix: string,
    channels: number,
    filters: number,
    stride: 1 | 2,
    activation: 'linear' | 'relu',
  ): number => {
    const depthwise = depthwiseToOihw(tensor(`${prefix}/depthwise_filter`, [3, 3, channels, 1]), 3, channels);
    builder.convolutional({
      filters: channels,
      size: stride === 2 ? 4 : 3,
      stride,
      padding: 1,
      groups: channels,
      activation: 'linear',
      kernel: stride === 2 ? shiftedKernelForSameStride2(depthwise, channels) : depthwise,
      biases: new Float32Array(channels),
    });
    return builder.convolutional({
      filters,
      size: 1,
      stride: 1,
      padding: 0,
      activation,
      kernel: hwioToOihw(
        tensor(`${prefix}/pointwise_filter`, [1, 1, channels, filters]),
        1,
        channels,
        filters,
      ),
      biases: tensor(`${prefix}/bias`, [filters]),
    });
  };

  let channels = 3;
  spec.blockChannels.forEach((filters, block) => {
    const prefix = `dense${block}`;
    let out1: number;
    if (block === 0) {
      const kernel = hwioToOihw(
        tensor(`${prefix}/conv0/filters`, [3, 3, channels, filters]),
        3,
        channels,
        filters,
      );
      out1 = builder.convolutional({
        filters,
        size: 4,
        stride: 2,
        padding: 1,
        activation: 'relu',
        kernel: shiftedKernelForSameStride2(kernel, filters * channels),
        biases: tensor(`${prefix}/conv0/bias`, [filters]),
      });
    } else {
      out1 = separable(`${prefix}/conv0`, channels, filters, 2, 'relu');
    }
    const out2 = separable(`${prefix}/conv1`, filters, filters, 1, 'linear');
    const sum12 = builder.shortcut(out1, 'linear');
    builder.route(out2);
    builder.shortcut(out1, 'relu');
    const out3 = separable(`${prefix}/conv2`, filters, filters, 1, 'linear');
    const sum123 = builder.shortcut(sum12, 'linear');
    builder.route(out3);
    builder.shortcut(sum12, 'relu');
    separable(`${prefix}/conv3`, filters, filters, 1, 'linear');
    builder.shortcut(sum123, 'relu');
    channels = filters;
  });

  builder.avgpool();
  const classes = spec.labels.length;
  const fcIn = tensor('fc/weights', [channels, classes]);
  const fcWeights = new Float32Array(classes * channels);
  for (let output = 0; output < classes; output += 1) {
    for (let input = 0; input < channels; input += 1) {
      fcWeights[output * channels + input] = fcIn[input * classes + output]!;
    }
  }
  builder.connected(classes, fcWeights, tensor('fc/bias', [classes]));
  builder.softmax();
  return builder.build();
}
