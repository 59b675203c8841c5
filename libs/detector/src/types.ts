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

export interface Detection {
  readonly classId: number;
  readonly label: string;
  readonly score: number;
  readonly box: Box;
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
  /** Overlap preprocessing of the next frame with inference of the current one (default true). */
  readonly pipelined?: boolean;
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
  /** im2col scratch. */
  readonly scratchBytes: number;
  readonly flops: number;
  readonly threads: number;
  readonly fused: boolean;
  readonly hasRegion: boolean;
  readonly weightsHeader: { major: number; minor: number; revision: number; seen: number };
}
