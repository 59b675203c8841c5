import { PipedFrameSource } from './piped-frame-source';

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

/** The ffmpeg arguments that decode an input to raw rgb24 frames of a fixed size on stdout. */
export function ffmpegRawVideoArguments(options: FfmpegFrameSourceOptions): string[] {
  const { width, height, fps } = options;
  const filters = [`scale=${width}:${height}`, ...(fps === undefined ? [] : [`fps=${fps}`])];
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    ...options.inputArguments,
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

/**
 * Decodes any input ffmpeg can read (file, RTSP, HTTP, V4L2 …) to raw rgb24 frames of a fixed size on a pipe.
 * The pipe is read continuously, so ffmpeg never stalls on a slow detector; the consumer keeps or drops frames.
 */
export class FfmpegFrameSource extends PipedFrameSource {
  /** The full ffmpeg argument list (exposed for logs and tests). */
  readonly arguments: string[];

  constructor(options: FfmpegFrameSourceOptions) {
    const args = ffmpegRawVideoArguments(options);
    super({
      description: options.description,
      program: options.ffmpegPath ?? DEFAULT_FFMPEG_PATH,
      arguments: args,
      width: options.width,
      height: options.height,
      installHint: 'apt-get install ffmpeg',
      now: options.now,
    });
    this.arguments = args;
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
