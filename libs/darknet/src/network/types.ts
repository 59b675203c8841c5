/**
 * The typed model of a darknet network.
 *
 * Three levels:
 *  - `CfgDocument`: the `.cfg` text split into sections and key/value options, each with its source line.
 *  - `Network`: the resolved network — `[net]` options plus one typed `Layer` per section after `[net]`, with the
 *    input and output shape of every layer inferred exactly as darknet does.
 *  - `NetworkWeights`: the contents of a `.weights` file, one entry per layer in network order.
 *
 * Conventions:
 *  - Shapes are `[channels, height, width]` (CHW, batch excluded).
 *  - Layer indices are darknet's: 0-based over the sections after `[net]`. (The paper counts 1-based.)
 *  - Every cfg-derived object carries the 1-based `line` of its section header so errors can name `file:line`.
 *
 * This file is a contract shared with the export/reference/verify code: change it only in backwards-compatible ways.
 */

/** `[channels, height, width]` of one tensor, batch excluded. */
export type Shape = readonly [channels: number, height: number, width: number];

/** One `key=value` line of a cfg section. */
export interface CfgOption {
  readonly key: string;
  readonly value: string;
  /** 1-based source line. */
  readonly line: number;
}

/** One `[type]` section of a cfg file and its options, in source order. */
export interface CfgSection {
  /** Section name without brackets, as written (e.g. `convolutional`, `conv`, `net`). */
  readonly type: string;
  /** 1-based line of the `[type]` header. */
  readonly line: number;
  readonly options: readonly CfgOption[];
}

/** A cfg file split into sections, before any interpretation. */
export interface CfgDocument {
  /** Name used in error messages (`file:line: why`). */
  readonly file: string;
  readonly sections: readonly CfgSection[];
}

/** Activations darknet layers may use that this library supports. */
export type Activation = 'linear' | 'leaky' | 'relu' | 'logistic';

/** The activations in a stable order (for validation and random generation). */
export const ACTIVATIONS: readonly Activation[] = ['linear', 'leaky', 'relu', 'logistic'];

/** Darknet's leaky ReLU slope (activations.h: `x > 0 ? x : .1 * x`). */
export const LEAKY_SLOPE = 0.1;

/** A cfg key darknet accepts but that does not affect inference (kept so serialisation round-trips). */
export interface PassthroughOption {
  readonly key: string;
  readonly value: string;
}

/** The `[net]` / `[network]` section. */
export interface NetOptions {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly batch: number;
  readonly subdivisions: number;
  /** Training-only keys from darknet's whitelist (learning_rate, angle, ...), in source order. */
  readonly passthrough: readonly PassthroughOption[];
  /** 1-based line of the `[net]` header. */
  readonly line: number;
}

/** Fields every resolved layer has. */
interface LayerBase {
  /** Darknet's 0-based layer index (sections after `[net]`). */
  readonly index: number;
  /** 1-based line of the section header in the cfg. */
  readonly line: number;
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  /** Keys that darknet accepts but do not change inference (e.g. `jitter`, `stopbackward`), in source order. */
  readonly passthrough: readonly PassthroughOption[];
}

export interface ConvolutionalLayer extends LayerBase {
  readonly type: 'convolutional';
  readonly filters: number;
  readonly size: number;
  readonly stride: number;
  /** The cfg's `pad` flag: when true, `padding = floor(size / 2)`. */
  readonly pad: boolean;
  /** Effective zero padding in pixels on each side (darknet: `pad ? size/2 : padding`). */
  readonly padding: number;
  /** Input channels and filters are split into this many groups; `groups == channels == filters` is depthwise. */
  readonly groups: number;
  readonly batchNormalize: boolean;
  readonly activation: Activation;
}

export interface MaxpoolLayer extends LayerBase {
  readonly type: 'maxpool';
  readonly size: number;
  readonly stride: number;
  /**
   * Total padding over both sides (darknet default `size - 1`); darknet offsets the window by `-padding/2`
   * (integer division) and `out = (in + padding - size) / stride + 1`.
   */
  readonly padding: number;
}

export interface RouteLayer extends LayerBase {
  readonly type: 'route';
  /** Absolute (0-based) indices of the source layers, in cfg order; all earlier than this layer. */
  readonly layers: readonly number[];
}

export interface ReorgLayer extends LayerBase {
  readonly type: 'reorg';
  /** Darknet's reorg (not plain SpaceToDepth): `[c,h,w] -> [c*stride^2, h/stride, w/stride]`. */
  readonly stride: number;
}

export interface ShortcutLayer extends LayerBase {
  readonly type: 'shortcut';
  /** Absolute (0-based) index of the layer added to the previous layer's output. */
  readonly from: number;
  readonly activation: Activation;
}

export interface AvgpoolLayer extends LayerBase {
  /** Global average pooling: `[c,h,w] -> [c,1,1]`. */
  readonly type: 'avgpool';
}

export interface ConnectedLayer extends LayerBase {
  readonly type: 'connected';
  /** Number of outputs; output shape `[output,1,1]`; inputs = product of the input shape. */
  readonly output: number;
  readonly batchNormalize: boolean;
  readonly activation: Activation;
}

export interface SoftmaxLayer extends LayerBase {
  /** Softmax over the flattened input in `groups` equal groups; output shape equals input shape. */
  readonly type: 'softmax';
  readonly groups: number;
  readonly temperature: number;
}

export interface RegionLayer extends LayerBase {
  /** YOLO v2 detection head; shape-preserving; input channels must be `num * (coords + 1 + classes)`. */
  readonly type: 'region';
  readonly classes: number;
  readonly coords: number;
  /** Number of anchors. */
  readonly num: number;
  /** `num` (w, h) pairs in grid-cell units, flattened: `[w0, h0, w1, h1, ...]`. */
  readonly anchors: readonly number[];
  /** Class scores go through softmax (`softmax=1`) rather than logistic. */
  readonly softmax: boolean;
}

export interface YoloLayer extends LayerBase {
  /** YOLO v3 detection head; shape-preserving; input channels must be `mask.length * (4 + 1 + classes)`. */
  readonly type: 'yolo';
  readonly classes: number;
  /** Total anchors listed (`num`). */
  readonly num: number;
  /** Indices into the anchor pairs used by this head. */
  readonly mask: readonly number[];
  /** `num` (w, h) pairs in input pixels, flattened. */
  readonly anchors: readonly number[];
}

export interface UpsampleLayer extends LayerBase {
  /** Nearest-neighbour upsampling: `[c,h,w] -> [c, h*stride, w*stride]`. */
  readonly type: 'upsample';
  readonly stride: number;
  /** Multiplier applied to the output (darknet `scale`, default 1). */
  readonly scale: number;
}

export type Layer =
  | ConvolutionalLayer
  | MaxpoolLayer
  | RouteLayer
  | ReorgLayer
  | ShortcutLayer
  | AvgpoolLayer
  | ConnectedLayer
  | SoftmaxLayer
  | RegionLayer
  | YoloLayer
  | UpsampleLayer;

export type LayerType = Layer['type'];

/** A parsed, shape-checked network. */
export interface Network {
  /** Name of the cfg it came from (used in messages). */
  readonly source: string;
  readonly net: NetOptions;
  readonly layers: readonly Layer[];
  /** `[channels, height, width]` from `[net]`. */
  readonly inputShape: Shape;
  /** Output shape of the last layer. */
  readonly outputShape: Shape;
}

/** Layers that carry parameters in a `.weights` file. */
export type WeightedLayer = ConvolutionalLayer | ConnectedLayer;

/** Batch-norm statistics of one layer, each of length `filters` (conv) or `output` (connected). */
export interface BatchNormWeights {
  readonly scales: Float32Array;
  readonly rollingMean: Float32Array;
  readonly rollingVariance: Float32Array;
}

/** Parameters of one convolutional or connected layer. */
export interface LayerWeights {
  /** Index of the layer these belong to. */
  readonly layerIndex: number;
  /** One per filter / output. */
  readonly biases: Float32Array;
  /** Present exactly when the layer has `batch_normalize=1`. */
  readonly batchNorm: BatchNormWeights | null;
  /**
   * Conv: `filters * (channels / groups) * size * size`, layout `[filter][channel][ky][kx]` (OIHW).
   * Connected: `output * inputs`, layout `[output][input]`, input flattened CHW.
   */
  readonly weights: Float32Array;
}

/** `.weights` file header. */
export interface WeightsHeader {
  readonly major: number;
  readonly minor: number;
  readonly revision: number;
  /** Images seen in training; stored as 64-bit when `major * 10 + minor >= 2`, else 32-bit. */
  readonly seen: bigint;
}

/** The contents of a `.weights` file, aligned with `Network.layers`. */
export interface NetworkWeights {
  readonly header: WeightsHeader;
  /** `layers[i]` holds the parameters of `network.layers[i]`, or `null` for layers without parameters. */
  readonly layers: readonly (LayerWeights | null)[];
}
