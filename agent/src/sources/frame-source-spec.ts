import { FfmpegFrameSource, streamInput, v4l2Input, videoFileInput } from './ffmpeg-frame-source';
import {
  csiCameraPipeline,
  GstreamerFrameSource,
  parseCaptureMode,
  v4l2HardwareScaledPipeline,
  type CaptureMode,
} from './gstreamer-frame-source';
import { ImageDirectorySource } from './image-directory-source';
import { type FrameSource } from './raw-frame';
import { SyntheticFrameSource } from './synthetic-frame-source';

export interface FrameSourceSettings {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly ffmpegPath?: string;
  readonly gstLaunchPath?: string;
}

const DEFAULT_CSI_CAPTURE: CaptureMode = { width: 1280, height: 720, fps: 30 };
const DEFAULT_V4L2_CAPTURE: CaptureMode = { width: 640, height: 480, fps: 30 };

export const FRAME_SOURCE_FORMS =
  'file:<path>[?loop], rtsp://…, http(s)://…, v4l2:<device>, csi:<sensor id>[?capture=WxH@fps], ' +
  'gst-v4l2:<device>[?capture=WxH@fps], images:<directory>, synthetic:';

/** `<target>[?capture=WxH@fps]` → the target and the capture mode (default when absent). */
function withCaptureMode(rest: string, spec: string, fallback: CaptureMode): [string, CaptureMode] {
  const [target = '', query] = rest.split('?');
  if (query === undefined) return [target, fallback];
  const capture = /^capture=(.*)$/.exec(query)?.[1];
  if (capture === undefined) throw new Error(`frame source "${spec}": the only option is ?capture=WxH@fps`);
  return [target, parseCaptureMode(capture, `frame source "${spec}"`)];
}

/**
 * The frame source a `--source` value names: `file:/data/clip.mp4` (add `?loop` to repeat), `rtsp://cam/stream`,
 * `http://host/stream.mjpg`, `v4l2:/dev/video0`, `images:/data/frames`, `synthetic:`, and on a Jetson through
 * GStreamer with the VIC scaler: `csi:0` (nvarguscamerasrc), `gst-v4l2:/dev/video0`. Throws naming the forms.
 */
export function frameSourceFromSpec(spec: string, settings: FrameSourceSettings): FrameSource {
  const { width, height, fps, ffmpegPath, gstLaunchPath } = settings;
  const gstreamer = (description: string, pipeline: string[]) =>
    new GstreamerFrameSource({ description, pipeline, width, height, gstLaunchPath });
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
  if (spec.startsWith('csi:')) {
    const [sensor, capture] = withCaptureMode(spec.slice('csi:'.length), spec, DEFAULT_CSI_CAPTURE);
    if (!/^\d{1,2}$/.test(sensor))
      throw new Error(`frame source "${spec}": sensor id must be a number, e.g. csi:0`);
    return gstreamer(
      `CSI camera ${sensor}`,
      csiCameraPipeline(Number(sensor), capture, { width, height, fps }),
    );
  }
  if (spec.startsWith('gst-v4l2:')) {
    const [device, capture] = withCaptureMode(spec.slice('gst-v4l2:'.length), spec, DEFAULT_V4L2_CAPTURE);
    if (!device) throw new Error(`frame source "${spec}": no device`);
    return gstreamer(
      `camera ${device} (GStreamer)`,
      v4l2HardwareScaledPipeline(device, capture, { width, height, fps }),
    );
  }
  if (spec.startsWith('images:')) {
    const directory = spec.slice('images:'.length);
    if (!directory) throw new Error(`frame source "${spec}": no directory`);
    return new ImageDirectorySource(directory, width, height, fps, ffmpegPath);
  }
  if (spec === 'synthetic:' || spec === 'synthetic') return new SyntheticFrameSource(width, height, fps);
  throw new Error(`frame source "${spec}" is not one of ${FRAME_SOURCE_FORMS}`);
}
