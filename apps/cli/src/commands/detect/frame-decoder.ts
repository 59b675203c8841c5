/** One decoded picture: packed RGB24 rows, no padding, in the source's own resolution. */
export interface DecodedFrame {
  /** 0-based position in the source (an image has one frame). */
  readonly index: number;
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes. Valid only until the next frame is requested (the buffer is reused). */
  readonly rgb: Uint8Array;
}

/**
 * Turns an image, a video file or a stream URL into RGB frames, one at a time: the next frame is decoded
 * only when the consumer asks for it, so memory stays bounded by one frame whatever the source's length.
 */
export interface FrameDecoder {
  frames(source: string): AsyncIterable<DecodedFrame>;
}
