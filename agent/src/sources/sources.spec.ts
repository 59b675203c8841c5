import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { frameSourceFromSpec } from './frame-source-spec';
import { FfmpegFrameSource, videoFileInput } from './ffmpeg-frame-source';
import { LatestFrameSlot } from './latest-frame-slot';
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

describe('frame sources (Debian ffmpeg)', () => {
  let directory: string;
  beforeAll(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-sources-'));
    const ffmpeg = (...args: string[]) =>
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args]);
    ffmpeg(
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=160x120:rate=30',
      '-frames:v',
      '30',
      path.join(directory, 'clip.mp4'),
    );
    fs.mkdirSync(path.join(directory, 'images'));
    for (const [name, color] of [
      ['a.png', 'red'],
      ['b.jpg', 'blue'],
      ['c.png', 'green'],
    ]) {
      ffmpeg(
        '-f',
        'lavfi',
        '-i',
        `color=c=${color}:size=50x40`,
        '-frames:v',
        '1',
        path.join(directory, 'images', name as string),
      );
    }
    fs.writeFileSync(path.join(directory, 'images', 'notes.txt'), 'not an image');
  });
  afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('decodes a video file to rgb24 frames of the requested size through a pipe', async () => {
    const source = new FfmpegFrameSource({
      description: 'test clip',
      inputArguments: videoFileInput(path.join(directory, 'clip.mp4'), { realtime: false, loop: false }),
      width: 64,
      height: 48,
    });
    const { frames, error } = await collect(source);
    expect(error).toBeUndefined();
    expect(frames).toHaveLength(30);
    expect(frames.map((f) => f.index)).toEqual([...Array(30).keys()]);
    expect(frames[0]).toMatchObject({ width: 64, height: 48, format: 'rgb24' });
    expect(frames[0]?.data.length).toBe(64 * 48 * 3);
  });

  it('decodes a directory of images in name order, skipping other files', async () => {
    const { frames, error } = await collect(
      frameSourceFromSpec(`images:${path.join(directory, 'images')}`, { width: 8, height: 8, fps: 100 }),
    );
    expect(error).toBeUndefined();
    const firstPixel = frames.map((f) => [...f.data.subarray(0, 3)]);
    expect(firstPixel[0]?.[0]).toBeGreaterThan(200); // red
    expect(firstPixel[1]?.[2]).toBeGreaterThan(200); // blue
    expect(firstPixel[2]?.[1]).toBeGreaterThan(100); // green
  });

  it("reports a file ffmpeg cannot open with ffmpeg's own message", async () => {
    const { error } = await collect(
      frameSourceFromSpec('file:/nonexistent/clip.mp4', { width: 8, height: 8, fps: 5 }),
    );
    expect(error?.message).toMatch(/file \/nonexistent\/clip\.mp4: ffmpeg exited with \d+: .*No such file/);
  });

  it('builds the ffmpeg command for RTSP, V4L2 and looping files, and rejects unknown forms', () => {
    const settings = { width: 416, height: 416, fps: 15 };
    expect((frameSourceFromSpec('rtsp://cam/live', settings) as FfmpegFrameSource).arguments).toEqual(
      expect.arrayContaining(['-rtsp_transport', 'tcp', '-i', 'rtsp://cam/live', 'scale=416:416,fps=15']),
    );
    expect((frameSourceFromSpec('v4l2:/dev/video0', settings) as FfmpegFrameSource).arguments).toEqual(
      expect.arrayContaining(['-f', 'v4l2', '-i', '/dev/video0']),
    );
    expect((frameSourceFromSpec('file:/a.mp4?loop', settings) as FfmpegFrameSource).arguments).toEqual(
      expect.arrayContaining(['-stream_loop', '-1', '-i', '/a.mp4']),
    );
    expect(() => frameSourceFromSpec('ftp://x', settings)).toThrow(/not one of file:/);
  });

  it('stops a live source (a never-ending synthetic ffmpeg input) without reporting an error', async () => {
    const source = new FfmpegFrameSource({
      description: 'endless',
      inputArguments: ['-re', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=30'],
      width: 32,
      height: 32,
    });
    let received = 0;
    const result = new Promise<Error | undefined>((resolve) =>
      source.start(
        () => (received += 1),
        (error) => resolve(error),
      ),
    );
    // Stop only once the live source is demonstrably streaming (ffmpeg may start slowly on a loaded machine).
    const deadline = Date.now() + 15_000;
    while (received <= 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toBeGreaterThan(3);
    await source.stop();
    expect(await result).toBeUndefined();
  });
});

describe('LatestFrameSlot', () => {
  it('keeps only the newest frame and counts every replaced one as dropped', () => {
    const slot = new LatestFrameSlot();
    const frame = (index: number): RawFrame => ({
      index,
      timestamp: 0,
      width: 1,
      height: 1,
      format: 'rgb24',
      data: Buffer.alloc(3),
    });
    for (let i = 0; i < 5; i += 1) slot.put(frame(i));
    expect(slot.take()?.index).toBe(4);
    expect(slot.take()).toBeUndefined();
    expect(slot.dropped).toBe(4);
  });
});
