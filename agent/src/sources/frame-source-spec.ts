import { FfmpegFrameSource, streamInput, v4l2Input, videoFileInput } from './ffmpeg-frame-source';
import { ImageDirectorySource } from './image-directory-source';
import { type FrameSource } from './raw-frame';
import { SyntheticFrameSource } from './synthetic-frame-source';

export interface FrameSourceSettings {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly ffmpegPath?: string;
}

export const FRAME_SOURCE_FORMS =
  'file:<path>[?loop], rtsp://…, http(s)://…, v4l2:<device>, images:<directory>, synthetic:';

/**
 * The frame source a `--source` value names: `file:/data/clip.mp4` (add `?loop` to repeat), `rtsp://cam/stream`,
 * `http://host/stream.mjpg`, `v4l2:/dev/video0`, `images:/data/frames`, `synthetic:`. Throws naming the forms.
 */
export function frameSourceFromSpec(spec: string, settings: FrameSourceSettings): FrameSource {
  const { width, height, fps, ffmpegPath } = settings;
  const ffmpeg = (description: string, inputArguments: string[], resample: boolean) =>
    new FfmpegFrameSource({
      description,
      inputArguments,
      width,
      height,
      fps: resample ? fps : undefined,
      ffmpegPath,
    });
  if (spec.startsWith('file:')) {
    const [file, query] = spec.slice('file:'.length).split('?');
    if (!file) throw new Error(`frame source "${spec}": no file path`);
    return ffmpeg(`file ${file}`, videoFileInput(file, { realtime: true, loop: query === 'loop' }), true);
  }
  if (/^(rtsp|rtsps|http|https):\/\//.test(spec)) return ffmpeg(`stream ${spec}`, streamInput(spec), true);
  if (spec.startsWith('v4l2:')) {
    const device = spec.slice('v4l2:'.length);
    if (!device) throw new Error(`frame source "${spec}": no device`);
    return ffmpeg(`camera ${device}`, v4l2Input(device), true);
  }
  if (spec.startsWith('images:')) {
    const directory = spec.slice('images:'.length);
    if (!directory) throw new Error(`frame source "${spec}": no directory`);
    return new ImageDirectorySource(directory, width, height, fps, ffmpegPath);
  }
  if (spec === 'synthetic:' || spec === 'synthetic') return new SyntheticFrameSource(width, height, fps);
  throw new Error(`frame source "${spec}" is not one of ${FRAME_SOURCE_FORMS}`);
}
