import { spawn, type ChildProcess } from 'node:child_process';
import { type FrameSource, type RawFrame } from './raw-frame';

export const DEFAULT_FFMPEG_PATH = 'ffmpeg';

export interface FfmpegFrameSourceOptions {
  readonly description: string;
  /** ffmpeg arguments selecting the input (everything before the output options). */
  readonly inputArguments: readonly string[];
  readonly width: number;
  readonly height: number;
  /** Resample to this rate (`fps` filter); undefined keeps the source's rate. */
  readonly fps?: number;
  readonly ffmpegPath?: string;
  readonly now?: () => number;
}

/**
 * Decodes any input ffmpeg can read (file, RTSP, HTTP, V4L2 …) to raw rgb24 frames of a fixed size on a pipe.
 * The pipe is read continuously, so ffmpeg never stalls on a slow detector; the consumer keeps or drops frames.
 */
export class FfmpegFrameSource implements FrameSource {
  private child: ChildProcess | undefined;
  private stopping = false;

  constructor(private readonly options: FfmpegFrameSourceOptions) {
    if (
      !(
        Number.isInteger(options.width) &&
        options.width > 0 &&
        Number.isInteger(options.height) &&
        options.height > 0
      )
    ) {
      throw new RangeError(`frame size must be positive integers, got ${options.width}x${options.height}`);
    }
  }

  get description(): string {
    return this.options.description;
  }

  /** The full ffmpeg argument list (exposed for logs and tests). */
  get arguments(): string[] {
    const { width, height, fps } = this.options;
    const filters = [`scale=${width}:${height}`, ...(fps === undefined ? [] : [`fps=${fps}`])];
    return [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      ...this.options.inputArguments,
      '-an',
      '-vf',
      filters.join(','),
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      'pipe:1',
    ];
  }

  start(onFrame: (frame: RawFrame) => void, onEnd: (error?: Error) => void): void {
    const { width, height } = this.options;
    const frameBytes = width * height * 3;
    const now = this.options.now ?? Date.now;
    const child = spawn(this.options.ffmpegPath ?? DEFAULT_FFMPEG_PATH, this.arguments, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let index = 0;
    let stderr = '';
    let ended = false;
    const end = (error?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(error);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < frameBytes) return;
      let all = Buffer.concat(pending, pendingBytes);
      while (all.length >= frameBytes) {
        // A copy: the frame must not keep the whole chunk alive.
        onFrame({
          index,
          timestamp: now(),
          width,
          height,
          format: 'rgb24',
          data: Buffer.from(all.subarray(0, frameBytes)),
        });
        index += 1;
        all = all.subarray(frameBytes);
      }
      pending = all.length > 0 ? [all] : [];
      pendingBytes = all.length;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.once('error', (error) =>
      end(new Error(`${this.description}: cannot run ffmpeg: ${error.message}`)),
    );
    child.once('close', (code, signal) => {
      if (this.stopping || code === 0) end();
      else
        end(
          new Error(
            `${this.description}: ffmpeg exited with ${code ?? signal}: ${stderr.trim() || 'no message'}`,
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

/** Input arguments for a video file (`loop`: start again at the end, for demos and soak tests). */
export function videoFileInput(file: string, options: { realtime: boolean; loop: boolean }): string[] {
  return [...(options.realtime ? ['-re'] : []), ...(options.loop ? ['-stream_loop', '-1'] : []), '-i', file];
}

/** Input arguments for a network stream; RTSP over TCP (fewer broken frames over lossy links). */
export function streamInput(url: string): string[] {
  return url.startsWith('rtsp://') ? ['-rtsp_transport', 'tcp', '-i', url] : ['-i', url];
}

/** Input arguments for a V4L2 camera (e.g. a USB webcam on /dev/video0). */
export function v4l2Input(device: string): string[] {
  return ['-f', 'v4l2', '-i', device];
}
