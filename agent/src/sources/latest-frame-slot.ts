import { type RawFrame } from './raw-frame';

/**
 * Backpressure for live frames: holds at most one frame, the newest. A frame that arrives while an untaken one
 * is waiting replaces it, and the replaced frame counts as dropped. Memory stays bounded however slow the
 * detector is, and the detector always works on the freshest picture.
 */
export class LatestFrameSlot {
  private frame: RawFrame | undefined;
  private droppedFrames = 0;

  get dropped(): number {
    return this.droppedFrames;
  }

  get pending(): boolean {
    return this.frame !== undefined;
  }

  put(frame: RawFrame): void {
    if (this.frame !== undefined) this.droppedFrames += 1;
    this.frame = frame;
  }

  take(): RawFrame | undefined {
    const frame = this.frame;
    this.frame = undefined;
    return frame;
  }
}
