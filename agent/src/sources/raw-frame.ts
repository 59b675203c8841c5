/** One decoded frame: packed rgb24 rows, no padding. */
export interface RawFrame {
  /** 0, 1, 2 … in the order the source delivered them (dropped frames keep their numbers). */
  readonly index: number;
  /** When the frame was read, ms since the epoch. */
  readonly timestamp: number;
  readonly width: number;
  readonly height: number;
  readonly format: 'rgb24';
  readonly data: Buffer;
}

/** Where frames come from: a file, a stream, a camera, a directory of images or a synthetic pattern. */
export interface FrameSource {
  /** For logs, e.g. `file /data/clip.mp4`. */
  readonly description: string;
  /**
   * Starts delivering frames to `onFrame` (as fast as the source produces them: the consumer decides what to
   * drop) and calls `onEnd` once when the source ends or fails.
   */
  start(onFrame: (frame: RawFrame) => void, onEnd: (error?: Error) => void): void;
  stop(): Promise<void>;
}
