import { PipedFrameSource } from './piped-frame-source';

export const DEFAULT_GST_LAUNCH_PATH = 'gst-launch-1.0';

/** Frame size and rate the agent wants, after scaling. */
export interface GstreamerOutput {
  readonly width: number;
  readonly height: number;
  /** Drop frames down to this rate (`videorate drop-only`); undefined keeps the source's rate. */
  readonly fps?: number;
}

/** What the camera delivers before scaling. */
export interface CaptureMode {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/**
 * How frames are scaled and converted out of the source's format: on a Jetson by the VIC hardware engine
 * (`nvvidconv`, which also moves frames out of NVMM memory), elsewhere on the CPU.
 */
export type GstreamerScaler = 'nvvidconv' | 'software';

/**
 * The pipeline after the source elements: scale to the output size as BGRx (what `nvvidconv` can write to
 * system memory; it has no packed 24-bit output), drop to the output rate, then `videoconvert` to packed RGB
 * (the agent's frame format) and write raw frames to stdout.
 */
export function rawRgbPipelineTail(scaler: GstreamerScaler, output: GstreamerOutput): string[] {
  const scale = scaler === 'nvvidconv' ? ['nvvidconv'] : ['videoconvert', '!', 'videoscale'];
  const rate =
    output.fps === undefined
      ? []
      : ['!', 'videorate', 'drop-only=true', '!', `video/x-raw,framerate=${output.fps}/1`];
  return [
    ...scale,
    '!',
    `video/x-raw,width=${output.width},height=${output.height},format=BGRx`,
    ...rate,
    '!',
    'videoconvert',
    '!',
    'video/x-raw,format=RGB',
    '!',
    'fdsink',
    'fd=1',
    'sync=false',
  ];
}

/**
 * A CSI camera (e.g. the IMX219 on a TX1/Nano carrier) through the Jetson ISP: `nvarguscamerasrc` (needs
 * `nvargus-daemon`) → NVMM frames → `nvvidconv` on the VIC.
 */
export function csiCameraPipeline(sensorId: number, capture: CaptureMode, output: GstreamerOutput): string[] {
  return [
    'nvarguscamerasrc',
    `sensor-id=${sensorId}`,
    '!',
    `video/x-raw(memory:NVMM),width=${capture.width},height=${capture.height},framerate=${capture.fps}/1`,
    '!',
    ...rawRgbPipelineTail('nvvidconv', output),
  ];
}

/** A V4L2 (USB/UVC) camera with the scaling and colour conversion on the Jetson's VIC (`nvvidconv`). */
export function v4l2HardwareScaledPipeline(
  device: string,
  capture: CaptureMode,
  output: GstreamerOutput,
): string[] {
  return [
    'v4l2src',
    `device=${device}`,
    '!',
    `video/x-raw,width=${capture.width},height=${capture.height},framerate=${capture.fps}/1`,
    '!',
    ...rawRgbPipelineTail('nvvidconv', output),
  ];
}

/** GStreamer pads each row of packed RGB to a multiple of 4 bytes. */
export function gstreamerRgbRowStride(width: number): number {
  return Math.ceil((width * 3) / 4) * 4;
}

export interface GstreamerFrameSourceOptions {
  readonly description: string;
  /** The pipeline description as gst-launch-1.0 arguments (elements, `!`, caps), ending in `fdsink fd=1`. */
  readonly pipeline: readonly string[];
  readonly width: number;
  readonly height: number;
  readonly gstLaunchPath?: string;
  readonly now?: () => number;
}

/** Frames from a GStreamer pipeline run by `gst-launch-1.0 -q` (raw RGB on stdout, rows padded to 4 bytes). */
export class GstreamerFrameSource extends PipedFrameSource {
  /** The full gst-launch-1.0 argument list (exposed for logs and tests). */
  readonly arguments: string[];

  constructor(options: GstreamerFrameSourceOptions) {
    const args = ['-q', ...options.pipeline];
    super({
      description: options.description,
      program: options.gstLaunchPath ?? DEFAULT_GST_LAUNCH_PATH,
      arguments: args,
      width: options.width,
      height: options.height,
      rowStrideBytes: gstreamerRgbRowStride(options.width),
      installHint: 'apt-get install gstreamer1.0-tools gstreamer1.0-plugins-base',
      now: options.now,
    });
    this.arguments = args;
  }
}

/** `1280x720@30` → capture mode; throws naming the expected form. */
export function parseCaptureMode(text: string, where: string): CaptureMode {
  const match = /^(\d{2,5})x(\d{2,5})@(\d{1,3})$/.exec(text);
  if (match === null)
    throw new Error(`${where}: capture mode "${text}" is not <width>x<height>@<fps>, e.g. 1280x720@30`);
  return { width: Number(match[1]), height: Number(match[2]), fps: Number(match[3]) };
}
