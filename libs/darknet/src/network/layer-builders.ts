import type { SectionReader } from '../cfg/section-reader';
import type {
  AvgpoolLayer,
  ConnectedLayer,
  ConvolutionalLayer,
  Layer,
  LayerType,
  MaxpoolLayer,
  PassthroughOption,
  RegionLayer,
  ReorgLayer,
  RouteLayer,
  Shape,
  ShortcutLayer,
  SoftmaxLayer,
  UpsampleLayer,
  YoloLayer,
} from './types';

/** What a layer builder sees: its section, its position and the layers before it. */
export interface LayerContext {
  readonly reader: SectionReader;
  readonly index: number;
  readonly inputShape: Shape;
  readonly previous: readonly Layer[];
}

/** Keys darknet's `parse_network_cfg` reads for every layer that do not affect inference. */
const COMMON_PASSTHROUGH = ['truth', 'onlyforward', 'stopbackward', 'learning_rate', 'smooth'];
/** Keys darknet reads for every layer that change which weights are loaded or saved. */
export const COMMON_UNSUPPORTED = ['dontsave', 'dontload', 'numload', 'dontloadscales'];

function passthroughKeys(...layerSpecific: string[]): ReadonlySet<string> {
  return new Set([...COMMON_PASSTHROUGH, ...layerSpecific]);
}

const CONVOLUTIONAL_PASSTHROUGH = passthroughKeys('dot');
const NO_EXTRA_PASSTHROUGH = passthroughKeys();
const SOFTMAX_PASSTHROUGH = passthroughKeys('spatial', 'noloss');
const REGION_PASSTHROUGH = passthroughKeys(
  'bias_match',
  'jitter',
  'rescore',
  'object_scale',
  'noobject_scale',
  'class_scale',
  'coord_scale',
  'mask_scale',
  'absolute',
  'thresh',
  'random',
  'log',
  'sqrt',
  'background',
  'max',
  'classfix',
);
const YOLO_PASSTHROUGH = passthroughKeys('jitter', 'ignore_thresh', 'truth_thresh', 'random', 'max');

function formatShape(shape: Shape): string {
  return `${shape[0]}x${shape[1]}x${shape[2]} (CxHxW)`;
}

function base(context: LayerContext, outputShape: Shape, passthrough: readonly PassthroughOption[]) {
  return {
    index: context.index,
    line: context.reader.section.line,
    inputShape: context.inputShape,
    outputShape,
    passthrough,
  };
}

function requirePositiveOutput(context: LayerContext, kind: string, shape: Shape): Shape {
  if (shape[0] < 1 || shape[1] < 1 || shape[2] < 1) {
    throw context.reader.error(
      `${kind} output would be ${shape[0]}x${shape[1]}x${shape[2]}: input ${formatShape(context.inputShape)} is too small`,
    );
  }
  return shape;
}

/** Resolves a layer reference (negative = relative to this layer) and checks it names an earlier layer. */
function resolveLayerReference(context: LayerContext, key: string, reference: number): number {
  const absolute = reference < 0 ? context.index + reference : reference;
  if (absolute < 0 || absolute >= context.index) {
    const which = absolute >= context.index ? 'this or a later layer' : 'a layer before the first';
    const allowed =
      context.index === 0
        ? 'layer 0 has no earlier layers'
        : `layer ${context.index} can only use layers 0..${context.index - 1}`;
    throw context.reader.errorAt(
      key,
      `${key}=${reference} refers to layer ${absolute}, which is ${which} (${allowed})`,
    );
  }
  return absolute;
}

/** Output shape of an earlier layer used by a route or shortcut; softmax outputs are not images in darknet. */
function outputOf(context: LayerContext, key: string, index: number): Shape {
  const layer = context.previous[index];
  if (!layer) throw context.reader.errorAt(key, `layer ${index} does not exist`);
  if (layer.type === 'softmax') {
    throw context.reader.errorAt(
      key,
      `layer ${index} is a [softmax], whose output darknet treats as a flat vector, not an image`,
    );
  }
  return layer.outputShape;
}

function convolutional(context: LayerContext): ConvolutionalLayer {
  const { reader, inputShape } = context;
  reader.rejectUnsupported(['binary', 'xnor', 'flipped']);
  const filters = reader.intAtLeast('filters', 1, 1);
  const size = reader.intAtLeast('size', 1, 1);
  const stride = reader.intAtLeast('stride', 1, 1);
  const pad = reader.flag('pad', false);
  const explicitPadding = reader.intAtLeast('padding', 0, 0);
  const groups = reader.intAtLeast('groups', 1, 1);
  const batchNormalize = reader.flag('batch_normalize', false);
  const activation = reader.activation('logistic');
  const passthrough = reader.finish(CONVOLUTIONAL_PASSTHROUGH);
  // darknet parse_convolutional: `if(pad) padding = size/2;`
  const padding = pad ? Math.floor(size / 2) : explicitPadding;
  const [channels, height, width] = inputShape;
  if (channels % groups !== 0 || filters % groups !== 0) {
    throw reader.errorAt(
      'groups',
      `groups=${groups} must divide both the input channels (${channels}) and filters (${filters})`,
    );
  }
  const outputShape = requirePositiveOutput(context, 'convolution', [
    filters,
    Math.floor((height + 2 * padding - size) / stride) + 1,
    Math.floor((width + 2 * padding - size) / stride) + 1,
  ]);
  return {
    type: 'convolutional',
    ...base(context, outputShape, passthrough),
    filters,
    size,
    stride,
    pad,
    padding,
    groups,
    batchNormalize,
    activation,
  };
}

function maxpool(context: LayerContext): MaxpoolLayer {
  const { reader, inputShape } = context;
  // darknet parse_maxpool: stride defaults to 1, size to stride, padding to size - 1.
  const stride = reader.intAtLeast('stride', 1, 1);
  const size = reader.intAtLeast('size', 1, stride);
  const padding = reader.intAtLeast('padding', 0, size - 1);
  const passthrough = reader.finish(NO_EXTRA_PASSTHROUGH);
  const [channels, height, width] = inputShape;
  // maxpool_layer.c: out = (in + padding - size) / stride + 1 (C integer division, operands non-negative).
  const outputShape = requirePositiveOutput(context, 'maxpool', [
    channels,
    Math.floor((height + padding - size) / stride) + 1,
    Math.floor((width + padding - size) / stride) + 1,
  ]);
  return { type: 'maxpool', ...base(context, outputShape, passthrough), size, stride, padding };
}

function route(context: LayerContext): RouteLayer {
  const { reader } = context;
  const layers = reader
    .intList('layers')
    .map((reference) => resolveLayerReference(context, 'layers', reference));
  const passthrough = reader.finish(NO_EXTRA_PASSTHROUGH);
  const shapes = layers.map((index) => outputOf(context, 'layers', index));
  const [first, ...rest] = shapes;
  if (!first) throw reader.errorAt('layers', 'route needs at least one layer');
  let channels = first[0];
  rest.forEach((shape, position) => {
    if (shape[1] !== first[1] || shape[2] !== first[2]) {
      throw reader.errorAt(
        'layers',
        `route cannot concatenate layer ${layers[0]} (${formatShape(first)}) with layer ${layers[position + 1]} (${formatShape(shape)}): heights and widths differ`,
      );
    }
    channels += shape[0];
  });
  return { type: 'route', ...base(context, [channels, first[1], first[2]], passthrough), layers };
}

function reorg(context: LayerContext): ReorgLayer {
  const { reader, inputShape } = context;
  reader.rejectUnsupported(['reverse', 'flatten', 'extra']);
  const stride = reader.intAtLeast('stride', 1, 1);
  const passthrough = reader.finish(NO_EXTRA_PASSTHROUGH);
  const [channels, height, width] = inputShape;
  if (height % stride !== 0 || width % stride !== 0) {
    throw reader.errorAt(
      'stride',
      `reorg stride ${stride} does not divide the input height and width (${formatShape(inputShape)})`,
    );
  }
  if (channels % (stride * stride) !== 0) {
    // darknet's reorg_cpu (called with forward=0) views the input as [c/stride², h·stride, w·stride]:
    // other channel counts make it read out of bounds.
    throw reader.errorAt(
      'stride',
      `reorg stride ${stride} needs input channels divisible by ${stride * stride}, got ${formatShape(inputShape)}`,
    );
  }
  const outputShape: Shape = [channels * stride * stride, height / stride, width / stride];
  return { type: 'reorg', ...base(context, outputShape, passthrough), stride };
}

function shortcut(context: LayerContext): ShortcutLayer {
  const { reader, inputShape } = context;
  reader.rejectUnsupported(['alpha', 'beta']);
  const from = resolveLayerReference(context, 'from', reader.int('from'));
  const activation = reader.activation('linear');
  const passthrough = reader.finish(NO_EXTRA_PASSTHROUGH);
  const fromShape = outputOf(context, 'from', from);
  if (fromShape.some((dimension, axis) => dimension !== inputShape[axis])) {
    throw reader.errorAt(
      'from',
      `shortcut adds layer ${from} (${formatShape(fromShape)}) to its input (${formatShape(inputShape)}): shapes must be equal`,
    );
  }
  return { type: 'shortcut', ...base(context, inputShape, passthrough), from, activation };
}

function avgpool(context: LayerContext): AvgpoolLayer {
  const passthrough = context.reader.finish(NO_EXTRA_PASSTHROUGH);
  return { type: 'avgpool', ...base(context, [context.inputShape[0], 1, 1], passthrough) };
}

function connected(context: LayerContext): ConnectedLayer {
  const { reader } = context;
  const output = reader.intAtLeast('output', 1, 1);
  const batchNormalize = reader.flag('batch_normalize', false);
  const activation = reader.activation('logistic');
  const passthrough = reader.finish(NO_EXTRA_PASSTHROUGH);
  return {
    type: 'connected',
    ...base(context, [output, 1, 1], passthrough),
    output,
    batchNormalize,
    activation,
  };
}

function softmax(context: LayerContext): SoftmaxLayer {
  const { reader, inputShape } = context;
  reader.rejectUnsupported(['tree']);
  const groups = reader.intAtLeast('groups', 1, 1);
  const temperature = reader.float('temperature', 1);
  const passthrough = reader.finish(SOFTMAX_PASSTHROUGH);
  const inputs = inputShape[0] * inputShape[1] * inputShape[2];
  if (inputs % groups !== 0) {
    throw reader.errorAt('groups', `softmax groups=${groups} does not divide the ${inputs} inputs`);
  }
  return { type: 'softmax', ...base(context, inputShape, passthrough), groups, temperature };
}

function anchorsFor(context: LayerContext, count: number): number[] {
  const anchors = context.reader.floatList('anchors');
  if (!anchors) throw context.reader.error(`[${context.reader.section.type}] requires 'anchors'`);
  if (anchors.length !== count * 2) {
    throw context.reader.errorAt(
      'anchors',
      `anchors lists ${anchors.length} numbers but num=${count} needs ${count * 2} (w,h pairs)`,
    );
  }
  return anchors;
}

function requireHeadChannels(context: LayerContext, expected: number, formula: string): void {
  const channels = context.inputShape[0];
  if (channels !== expected) {
    throw context.reader.error(
      `[${context.reader.section.type}] expects ${expected} input channels (${formula}) but the previous layer outputs ${formatShape(context.inputShape)}`,
    );
  }
}

function region(context: LayerContext): RegionLayer {
  const { reader } = context;
  reader.rejectUnsupported(['tree', 'map']);
  const classes = reader.intAtLeast('classes', 1, 20);
  const coords = reader.intAtLeast('coords', 1, 4);
  const num = reader.intAtLeast('num', 1, 1);
  const softmaxClasses = reader.flag('softmax', false);
  const anchors = anchorsFor(context, num);
  const passthrough = reader.finish(REGION_PASSTHROUGH);
  requireHeadChannels(
    context,
    num * (coords + 1 + classes),
    `num*(coords+1+classes) = ${num}*(${coords}+1+${classes})`,
  );
  return {
    type: 'region',
    ...base(context, context.inputShape, passthrough),
    classes,
    coords,
    num,
    anchors,
    softmax: softmaxClasses,
  };
}

function yolo(context: LayerContext): YoloLayer {
  const { reader } = context;
  reader.rejectUnsupported(['map']);
  const classes = reader.intAtLeast('classes', 1, 20);
  const num = reader.intAtLeast('num', 1, 1);
  const mask = reader.has('mask') ? reader.intList('mask') : Array.from({ length: num }, (_, i) => i);
  const anchors = anchorsFor(context, num);
  const passthrough = reader.finish(YOLO_PASSTHROUGH);
  const outOfRange = mask.find((entry) => entry < 0 || entry >= num);
  if (outOfRange !== undefined) {
    throw reader.errorAt('mask', `mask entry ${outOfRange} is not an anchor index 0..${num - 1}`);
  }
  requireHeadChannels(
    context,
    mask.length * (4 + 1 + classes),
    `mask size*(4+1+classes) = ${mask.length}*(5+${classes})`,
  );
  return { type: 'yolo', ...base(context, context.inputShape, passthrough), classes, num, mask, anchors };
}

function upsample(context: LayerContext): UpsampleLayer {
  const { reader, inputShape } = context;
  const stride = reader.int('stride', 2);
  if (stride < 1) {
    throw reader.errorAt(
      'stride',
      `upsample stride must be >= 1 (darknet's negative-stride downsampling is not supported), got ${stride}`,
    );
  }
  const scale = reader.float('scale', 1);
  const passthrough = reader.finish(NO_EXTRA_PASSTHROUGH);
  const outputShape: Shape = [inputShape[0], inputShape[1] * stride, inputShape[2] * stride];
  return { type: 'upsample', ...base(context, outputShape, passthrough), stride, scale };
}

/** Builds each supported layer type from its section. */
export const LAYER_BUILDERS: Readonly<Record<LayerType, (context: LayerContext) => Layer>> = {
  convolutional,
  maxpool,
  route,
  reorg,
  shortcut,
  avgpool,
  connected,
  softmax,
  region,
  yolo,
  upsample,
};

/** Section names darknet accepts (`string_to_layer_type`), mapped to the layer type. */
export const SECTION_LAYER_TYPES: Readonly<Record<string, LayerType>> = {
  convolutional: 'convolutional',
  conv: 'convolutional',
  maxpool: 'maxpool',
  max: 'maxpool',
  route: 'route',
  reorg: 'reorg',
  shortcut: 'shortcut',
  avgpool: 'avgpool',
  avg: 'avgpool',
  connected: 'connected',
  conn: 'connected',
  softmax: 'softmax',
  soft: 'softmax',
  region: 'region',
  yolo: 'yolo',
  upsample: 'upsample',
};
