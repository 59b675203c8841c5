import { DetectorError, toDetectorError } from './detector-error';
import type { NativeDetector } from './native-binding';
import type { Detection, DetectOptions, DetectorInfo, FrameDescription } from './types';

const DEFAULT_SCORE_THRESHOLD = 0.25;
const DEFAULT_IOU_THRESHOLD = 0.45;

/**
 * A loaded network. Every call runs off the event loop and returns a Promise; calls may overlap (they are
 * queued natively; with `pipelined`, one call preprocesses while another infers). Frames are read in place:
 * do not modify a frame buffer until its detect() has settled.
 */
export class Detector {
  private native: NativeDetector | undefined;

  /** @internal created by createDetector() */
  constructor(
    native: NativeDetector,
    private readonly labels: readonly string[],
    /** Static description: layers, shapes, activation memory. */
    readonly info: DetectorInfo,
    private readonly classifierLabels: readonly string[] = [],
  ) {
    this.native = native;
  }

  get disposed(): boolean {
    return this.native === undefined;
  }

  /**
   * Detections in source-frame pixels, best first, after per-class NMS. With a classifier stage, each box is also
   * classified (one native call per frame): label and classId are the classifier's, `classification` holds the
   * first stage's result and all scores. Boxes whose clipped crop is smaller than a pixel are dropped.
   */
  async detect(
    frame: Uint8Array,
    description: FrameDescription,
    options: DetectOptions = {},
  ): Promise<Detection[]> {
    const native = this.live('detect');
    const found = await native
      .detect(
        frame,
        description.width,
        description.height,
        description.format,
        options.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD,
        options.iouThreshold ?? DEFAULT_IOU_THRESHOLD,
      )
      .catch((error: unknown) => {
        throw toDetectorError(error);
      });
    return found.map((d) => {
      const box = { x: d.x, y: d.y, width: d.width, height: d.height };
      if (d.scores === undefined) {
        return { classId: d.classId, label: labelOf(this.labels, d.classId), score: d.score, box };
      }
      const detectorClassId = d.detectorClassId ?? 0;
      return {
        classId: d.classId,
        label: labelOf(this.classifierLabels, d.classId),
        score: d.score,
        box,
        classification: {
          detectorClassId,
          detectorLabel: labelOf(this.labels, detectorClassId),
          detectorScore: d.detectorScore ?? d.score,
          scores: Array.from(d.scores),
        },
      };
    });
  }

  /**
   * Runs the network on a preprocessed input (NCHW floats, info.input's shape) and returns a layer's raw
   * output (NCHW). Default: the input of [region], i.e. info.rawOutput. `layer` picks any executed layer (cpu).
   */
  async forwardRaw(input: Float32Array, options: { layer?: number } = {}): Promise<Float32Array> {
    const native = this.live('forwardRaw');
    return native.forwardRaw(input, options.layer ?? -1).catch((error: unknown) => {
      throw toDetectorError(error);
    });
  }

  /**
   * One run on a preprocessed input; a copy of each listed layer's output (cpu backend), in the order asked.
   * Calibration uses it to see every convolution's input in a single pass.
   */
  async forwardLayers(input: Float32Array, layers: readonly number[]): Promise<Float32Array[]> {
    const native = this.live('forwardLayers');
    return native.forwardLayers(input, [...layers]).catch((error: unknown) => {
      throw toDetectorError(error);
    });
  }

  /** The letterboxed, normalised network input detect() would feed for this frame. */
  async preprocess(frame: Uint8Array, description: FrameDescription): Promise<Float32Array> {
    const native = this.live('preprocess');
    return native
      .preprocess(frame, description.width, description.height, description.format)
      .catch((error: unknown) => {
        throw toDetectorError(error);
      });
  }

  /** Frees the network; calls already running finish first. Later calls reject with EMOFLEET_DISPOSED. */
  dispose(): void {
    this.native?.dispose();
    this.native = undefined;
  }

  private live(method: string): NativeDetector {
    if (!this.native) throw new DetectorError('EMOFLEET_DISPOSED', `${method}() on a disposed detector`);
    return this.native;
  }
}

function labelOf(labels: readonly string[], classId: number): string {
  return labels[classId] ?? `class${classId}`;
}
