import { frameSourceFromSpec } from './frame-source-spec';
import {
  GstreamerFrameSource,
  gstreamerRgbRowStride,
  rawRgbPipelineTail,
  type GstreamerOutput,
} from './gstreamer-frame-source';
import { type FrameSource, type RawFrame } from './raw-frame';

jest.setTimeout(30_000);

function collect(source: FrameSource): Promise<{ frames: RawFrame[]; error?: Error }> {
  const frames: RawFrame[] = [];
  return new Promise((resolve) =>
    source.start(
      (frame) => frames.push(frame),
      (error) => resolve({ frames, error }),
    ),
  );
}

/** A solid red test picture at 30 FPS, scaled and converted like the Jetson pipelines but on the CPU. */
function testPatternSource(buffers: number, output: GstreamerOutput): GstreamerFrameSource {
  return new GstreamerFrameSource({
    description: 'videotestsrc',
    pipeline: [
      ...['videotestsrc', `num-buffers=${buffers}`, 'pattern=solid-color', 'foreground-color=0xffff0000'],
      ...['!', 'video/x-raw,width=160,height=120,framerate=30/1', '!'],
      ...rawRgbPipelineTail('software', output),
    ],
    width: output.width,
    height: output.height,
  });
}

describe('GStreamer frame source (Debian gst-launch-1.0 with videotestsrc; the Jetson camera elements are not here)', () => {
  it('reads packed rgb24 frames from gst-launch-1.0, dropping the 4-byte row padding GStreamer adds', async () => {
    // 50 pixels × 3 = 150 bytes per row, padded to 152 on the pipe.
    expect(gstreamerRgbRowStride(50)).toBe(152);
    const { frames, error } = await collect(testPatternSource(12, { width: 50, height: 30 }));
    expect(error).toBeUndefined();
    expect(frames.map((f) => f.index)).toEqual([...Array(12).keys()]);
    for (const frame of frames) {
      expect(frame).toMatchObject({ width: 50, height: 30, format: 'rgb24' });
      expect(frame.data.length).toBe(50 * 30 * 3);
      // Every pixel red: padding left in the data would shift the channels of every row after the first.
      for (let offset = 0; offset < frame.data.length; offset += 3) {
        const [r, g, b] = [frame.data[offset], frame.data[offset + 1], frame.data[offset + 2]];
        if (!((r as number) > 240 && (g as number) < 16 && (b as number) < 16)) {
          throw new Error(`frame ${frame.index}: pixel ${offset / 3} is (${r}, ${g}, ${b}), not red`);
        }
      }
    }
  });

  it('drops frames to the requested rate (videorate): 30 frames at 30 FPS → 10 at 10 FPS', async () => {
    const { frames, error } = await collect(testPatternSource(30, { width: 32, height: 24, fps: 10 }));
    expect(error).toBeUndefined();
    expect(frames).toHaveLength(10);
  });

  it("reports a pipeline that cannot be built with gst-launch's own message (no nvarguscamerasrc off a Jetson)", async () => {
    const { frames, error } = await collect(
      frameSourceFromSpec('csi:0', { width: 416, height: 416, fps: 15 }),
    );
    expect(frames).toHaveLength(0);
    expect(error?.message).toMatch(
      /^CSI camera 0: gst-launch-1\.0 exited with 1: .*no element "nvarguscamerasrc"/,
    );
  });

  it('names the package when gst-launch-1.0 is missing', async () => {
    const source = frameSourceFromSpec('csi:0', {
      width: 8,
      height: 8,
      fps: 5,
      gstLaunchPath: '/nonexistent/gst-launch-1.0',
    });
    const { error } = await collect(source);
    expect(error?.message).toMatch(
      /cannot run \/nonexistent\/gst-launch-1\.0: .*ENOENT.*apt-get install gstreamer1\.0-tools/,
    );
  });
});

describe("Jetson GStreamer pipelines (strings only: UNVERIFIED on a Jetson, built to NVIDIA's documented elements)", () => {
  const settings = { width: 416, height: 416, fps: 15 };

  it('builds the CSI camera pipeline: nvarguscamerasrc → NVMM → nvvidconv (VIC) → BGRx → videorate → RGB on stdout', () => {
    const source = frameSourceFromSpec('csi:1?capture=1920x1080@30', settings) as GstreamerFrameSource;
    expect(source.description).toBe('CSI camera 1');
    expect(source.arguments.join(' ')).toBe(
      '-q nvarguscamerasrc sensor-id=1 ! video/x-raw(memory:NVMM),width=1920,height=1080,framerate=30/1 ' +
        '! nvvidconv ! video/x-raw,width=416,height=416,format=BGRx ! videorate drop-only=true ' +
        '! video/x-raw,framerate=15/1 ! videoconvert ! video/x-raw,format=RGB ! fdsink fd=1 sync=false',
    );
    expect((frameSourceFromSpec('csi:0', settings) as GstreamerFrameSource).arguments).toContain(
      'video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1',
    );
  });

  it('builds the V4L2 pipeline with the hardware scaler', () => {
    const source = frameSourceFromSpec('gst-v4l2:/dev/video1', settings) as GstreamerFrameSource;
    expect(source.arguments.slice(0, 8)).toEqual([
      '-q',
      'v4l2src',
      'device=/dev/video1',
      '!',
      'video/x-raw,width=640,height=480,framerate=30/1',
      '!',
      'nvvidconv',
      '!',
    ]);
  });

  it.each([
    ['csi:front', /sensor id must be a number/],
    ['csi:0?capture=720p', /capture mode "720p" is not <width>x<height>@<fps>/],
    ['csi:0?exposure=3', /the only option is \?capture=WxH@fps/],
    ['gst-v4l2:', /no device/],
  ])('rejects %j naming the problem', (spec, message) => {
    expect(() => frameSourceFromSpec(spec, settings)).toThrow(message);
  });
});
