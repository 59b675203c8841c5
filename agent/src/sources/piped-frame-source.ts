import { spawn, type ChildProcess } from 'node:child_process';
import { type FrameSource, type RawFrame } from './raw-frame';

export interface PipedFrameSourceOptions {
  readonly description: string;
  /** The program that writes raw rgb24 frames to its stdout (ffmpeg, gst-launch-1.0). */
  readonly program: string;
  readonly arguments: readonly string[];
  readonly width: number;
  readonly height: number;
  /**
   * Bytes per row on the pipe, at least width × 3 (default: exactly that). GStreamer pads RGB rows to a
   * multiple of 4 bytes; the padding is dropped so frames are always packed.
   */
  readonly rowStrideBytes?: number;
  /** Appended to "cannot run <program>" when the program is missing, e.g. which package provides it. */
  readonly installHint?: string;
  readonly now?: () => number;
}

/**
 * Runs a program that writes raw rgb24 frames of a fixed size to stdout and cuts the stream into frames. The
 * pipe is read continuously, so the producer never stalls on a slow detector; the consumer keeps or drops
 * frames. The program's stderr (last 2000 characters) goes into the error when it fails.
 */
export class PipedFrameSource implements FrameSource {
  private child: ChildProcess | undefined;
  private stopping = false;
  private readonly rowStride: number;

  constructor(private readonly pipe: PipedFrameSourceOptions) {
    const { width, height } = pipe;
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
      throw new RangeError(`frame size must be positive integers, got ${width}x${height}`);
    }
    this.rowStride = pipe.rowStrideBytes ?? width * 3;
    if (!Number.isInteger(this.rowStride) || this.rowStride < width * 3) {
      throw new RangeError(`row stride ${this.rowStride} is less than ${width} pixels × 3 bytes`);
    }
  }

  get description(): string {
    return this.pipe.description;
  }

  start(onFrame: (frame: RawFrame) => void, onEnd: (error?: Error) => void): void {
    const { width, height, program } = this.pipe;
    const packedRow = width * 3;
    const frameBytes = this.rowStride * height;
    const now = this.pipe.now ?? Date.now;
    const child = spawn(program, [...this.pipe.arguments], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // Each frame is assembled in a buffer of its own (one copy from the pipe's chunks): a frame never keeps a
    // chunk alive, and packed frames need no second copy.
    let frame = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    let index = 0;
    let stderr = '';
    let ended = false;
    const end = (error?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(error);
    };
    const packed = (padded: Buffer): Buffer => {
      if (this.rowStride === packedRow) return padded;
      const data = Buffer.allocUnsafe(packedRow * height);
      for (let row = 0; row < height; row += 1) {
        padded.copy(data, row * packedRow, row * this.rowStride, row * this.rowStride + packedRow);
      }
      return data;
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + take);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          onFrame({ index, timestamp: now(), width, height, format: 'rgb24', data: packed(frame) });
          index += 1;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.once('error', (error) => {
      const hint = this.pipe.installHint === undefined ? '' : ` (${this.pipe.installHint})`;
      end(new Error(`${this.description}: cannot run ${program}: ${error.message}${hint}`));
    });
    child.once('close', (code, signal) => {
      if (this.stopping || code === 0) end();
      else
        end(
          new Error(
            `${this.description}: ${program} exited with ${code ?? signal}: ${stderr.trim() || 'no message'}`,
          ),
        );
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    this.stopping = true;
    const closed = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGTERM');
    await closed;
  }
}
