import type { Int8Plan } from './quantization/int8-plan';

export type PixelFormat = 'rgb24' | 'bgr24' | 'nv12' | 'i420';

/** How to read a frame buffer: packed rows, no padding; NV12/I420 chroma planes are ceil(w/2) x ceil(h/2). */
export interface FrameDescription {
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
}

export interface DetectOptions {
  /** Keep detections whose objectness x class probability is at least this (default 0.25). */
  readonly scoreThreshold?: number;
  /** Per-class NMS: drop a box overlapping a better one of its class by more than this IoU (default 0.45). */
  readonly iouThreshold?: number;
}

/** A box in source-frame pixels: top-left corner and size. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * How a frame becomes a network input. `letterbox` is darknet's letterbox_image (aspect kept, centred, grey fill,
 * RGB / 255). `pad-to-square` is face-api's: zero padding to a square (after the image, or split with the larger
 * half after it), TF's bilinear resize (align_corners=false, half_pixel_centers=false), then (rgb - mean) * scale
 * on 0..255 RGB. It needs a square network input.
 */
export type NetworkInput = LetterboxInput | PadToSquareInput;

export interface LetterboxInput {
  readonly fit: 'letterbox';
}

export interface PadToSquareInput {
  readonly fit: 'pad-to-square';
  readonly padding: 'bottom-right' | 'centred';
  readonly mean: readonly [number, number, number];
  readonly scale: number;
}

/** A two-stage detection's first-stage result and the classifier's scores. */
export interface Classification {
  readonly detectorClassId: number;
  readonly detectorLabel: string;
  /** The first stage's objectness x class probability. */
  readonly detectorScore: number;
  /** The classifier's last layer (probabilities when it ends in [softmax]), in its label order. */
  readonly scores: readonly number[];
}

export interface Detection {
  /** One-stage: the detector's class. Two-stage: the classifier's best class. */
  readonly classId: number;
  readonly label: string;
  /** One-stage: objectness x class probability. Two-stage: detectorScore x scores[classId]. */
  readonly score: number;
  readonly box: Box;
  /** Present when the detector has a classifier stage. */
  readonly classification?: Classification;
}

export type Backend = 'cpu' | 'tensorrt';

export interface CreateDetectorOptions {
  /** darknet .cfg: its text, or a path to the file (a string without a newline is taken as a path). */
  readonly cfg: string;
  /**
   * cpu: darknet .weights (Buffer or path). tensorrt: the serialized engine built by trtexec (Buffer or path);
   * the cfg still supplies the input shape and the [region] parameters.
   */
  readonly weights: Buffer | string;
  /** Class labels: an array, or a path to a darknet .names file (one label per line). */
  readonly names?: readonly string[] | string;
  readonly backend?: Backend;
  /** Worker threads for inference; 0 or undefined: all cores. */
  readonly threads?: number;
  /** CBR fusion and in-place routes (default true); false runs darknet-style separate passes, for benchmarks. */
  readonly fuse?: boolean;
  /**
   * cpu, fused runs: dense 3x3 stride-1 convolutions as Winograd convolutions. 'auto' (default) picks per
   * layer (F(4x4,3x3) at >= 24x24 output pixels, F(2x2,3x3) for >= 512-channel low-resolution layers, im2col
   * below 32 channels); 'off' always uses im2col + SGEMM; 'f2' / 'f4' force that tile on every layer Winograd
   * can run (benchmarks and tests).
   */
  readonly winograd?: WinogradMode;
  /** Overlap preprocessing of the next frame with inference of the current one (default true). */
  readonly pipelined?: boolean;
  /** How frames become the network input (default: darknet's letterbox). */
  readonly input?: NetworkInput;
  /**
   * A second stage run on the crop of every detected box (cpu, same threads): its class becomes the detection's
   * label. Thresholds and NMS apply to the first stage.
   */
  readonly classifier?: ClassifierOptions;
  /**
   * cpu: the model bundle's INT8 quantisation plan (`emofleet model quantize`); its int8 layers run in INT8, the
   * rest in FP32. Must have been calibrated for exactly this cfg and weights.
   */
  readonly int8Plan?: Int8Plan;
}

export type WinogradMode = 'auto' | 'off' | 'f2' | 'f4';

export interface ClassifierOptions {
  /** darknet .cfg of a network without [region] whose last layer holds one score per class (text or path). */
  readonly cfg: string;
  /** darknet .weights (Buffer or path). */
  readonly weights: Buffer | string;
  /** Class labels (array or .names path); their count must equal the classifier's outputs. */
  readonly names?: readonly string[] | string;
  /** Crops are padded to a square: face-api's crop preparation. */
  readonly input: PadToSquareInput;
  /** Inference threads of the classifier stage (default: the detector's `threads`). */
  readonly threads?: number;
}

export interface ClassifierInfo {
  readonly input: TensorShape;
  readonly classes: number;
  readonly layers: number;
  readonly flops: number;
  readonly activationBytes: number;
}

export interface TensorShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export interface LayerInfo {
  readonly index: number;
  readonly type: string;
  readonly cfgLine: number;
  /** convolutional, connected and shortcut layers: linear | leaky | relu | logistic */
  readonly activation?: string;
  readonly output: TensorShape;
  readonly flops: number;
}

export interface DetectorInfo {
  readonly backend: Backend;
  /** cpu backend: the OpenBLAS kernel family in use (see OPENBLAS_CORETYPE in the README). */
  readonly blasCore?: string;
  readonly input: TensorShape;
  /** Shape of forwardRaw()'s default output: the input of [region] (or the last layer without one). */
  readonly rawOutput: TensorShape;
  readonly layers: readonly LayerInfo[];
  /** Peak activation memory after liveness planning and in-place routes. */
  readonly activationBytes: number;
  /** What the activations would take with one buffer per layer. */
  readonly unplannedActivationBytes: number;
  /** im2col and Winograd scratch. */
  readonly scratchBytes: number;
  readonly flops: number;
  readonly threads: number;
  readonly fused: boolean;
  readonly hasRegion: boolean;
  readonly weightsHeader: { major: number; minor: number; revision: number; seen: number };
  readonly inputFit: NetworkInput['fit'];
  /** cpu: layers running in INT8 (empty without a plan), and which layers could. */
  readonly int8Layers: readonly number[];
  readonly int8CapableLayers: readonly number[];
  /** cpu with INT8 layers: the integer kernel, 'amx-int8', 'avx512-vnni', 'avx2', 'neon-dotprod' or 'portable'. */
  readonly int8Kernel?: string;
  /** cpu: the convolutions that run as Winograd F(tile x tile, 3x3), tile 2 or 4. */
  readonly winogradLayers: readonly { readonly layer: number; readonly tile: 2 | 4 }[];
  /** cpu: the convolutions that run on the direct kernel (wide layers with few input channels, e.g. the first). */
  readonly directLayers: readonly number[];
  /**
   * cpu: direct-kernel layers that run fused with the 2x2 max pool after them (their own output is never
   * written; `forwardRaw` with `layer` still returns it).
   */
  readonly pooledDirectLayers: readonly number[];
  /**
   * cpu: the 1x1 convolutions that run on the packed-weight GEMM (deep layers at up to 32x32 pixels, with at
   * least 64 input channels and 128 filters); the other 1x1 layers run on im2col's path (OpenBLAS).
   */
  readonly pointwiseLayers: readonly number[];
  /** The second stage, when there is one. */
  readonly classifier?: ClassifierInfo;
}
