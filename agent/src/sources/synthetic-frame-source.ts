import { type FrameSource, type RawFrame } from './raw-frame';

/**
 * A generated pattern (a bright square moving over a gradient) at a fixed rate, for tests, the simulator and
 * checking a device without a camera. `frames` bounds the run (undefined: until stopped). One buffer is reused
 * per size, so the source costs almost nothing.
 */
export class SyntheticFrameSource implements FrameSource {
  private timer: NodeJS.Timeout | undefined;
  private onEnd: ((error?: Error) => void) | undefined;

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly fps: number,
    private readonly frames?: number,
  ) {
    if (!(fps > 0 && fps <= 1000)) throw new RangeError(`synthetic fps must be in (0, 1000], got ${fps}`);
  }

  get description(): string {
    return `synthetic ${this.width}x${this.height} at ${this.fps} FPS`;
  }

  start(onFrame: (frame: RawFrame) => void, onEnd: (error?: Error) => void): void {
    this.onEnd = onEnd;
    const data = Buffer.alloc(this.width * this.height * 3);
    const paintGradientRow = (y: number) =>
      data.fill(Math.floor((255 * y) / this.height), y * this.width * 3, (y + 1) * this.width * 3);
    for (let y = 0; y < this.height; y += 1) paintGradientRow(y);
    let index = 0;
    this.timer = setInterval(() => {
      if (this.frames !== undefined && index >= this.frames) {
        void this.stop();
        return;
      }
      const side = Math.max(1, Math.floor(this.height / 4));
      const x = (index * 2) % Math.max(1, this.width - side);
      for (let row = 0; row < side; row += 1) paintGradientRow(row);
      for (let row = 0; row < side; row += 1)
        data.fill(255, (row * this.width + x) * 3, (row * this.width + x + side) * 3);
      onFrame({
        index,
        timestamp: Date.now(),
        width: this.width,
        height: this.height,
        format: 'rgb24',
        data,
      });
      index += 1;
    }, 1000 / this.fps);
  }

  stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const onEnd = this.onEnd;
    this.onEnd = undefined;
    onEnd?.();
    return Promise.resolve();
  }
}
