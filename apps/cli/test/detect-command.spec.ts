import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCfg, randomWeights, saveWeights } from '@emofleet/darknet';
import { CliError } from '../src/cli-error';
import { registerDetectCommand } from '../src/commands/detect';
import { type CommandOutput, runCommand } from './support/run-command';
import { DetectExitCode } from '../src/commands/detect/detect-exit-codes';

const MODELS = join(__dirname, '..', '..', '..', 'libs', 'darknet', 'models');
const TINY_CFG = join(MODELS, 'yolov2-tiny-expression.cfg');
const NAMES = join(MODELS, 'expressions.names');
const LABELS = ['Happiness', 'Sadness', 'Surprise', 'Anger'];
/** Low enough that seeded random weights produce detections, so the box checks have something to check. */
const LOW_SCORE = '0.15';
/** Inference on a shared 2-core machine: ~1-6 frames per second for the tiny network. */
const SLOW_TEST_MS = 120_000;

interface FrameLine {
  source: string;
  frame: number;
  detections: Array<{ label: string; score: number; box: [number, number, number, number] }>;
}

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
}

async function run(...args: string[]): Promise<CommandOutput> {
  return runCommand(registerDetectCommand, ['detect', ...args]);
}

async function failure(...args: string[]): Promise<CliError> {
  const error: unknown = await run(...args).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof CliError)) throw new Error(`expected a CliError, got ${String(error)}`);
  return error;
}

describe('emofleet detect', () => {
  jest.setTimeout(SLOW_TEST_MS);

  let directory: string;
  let weights: string;
  let png: string;
  let jpeg: string;
  let video: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'cli-detect-'));
    weights = join(directory, 'tiny.weights');
    const network = loadCfg(TINY_CFG);
    saveWeights(network, randomWeights(network, 7), weights);
    png = join(directory, 'pattern.png');
    jpeg = join(directory, 'pattern.jpg');
    video = join(directory, 'clip.mp4');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=200x150', '-frames:v', '1', png);
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120', '-frames:v', '1', jpeg);
    ffmpeg(
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=10',
      '-frames:v',
      '10',
      '-pix_fmt',
      'yuv420p',
      video,
    );
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  const model = (): string[] => ['--cfg', TINY_CFG, '--weights', weights, '--names', NAMES];

  it('prints one JSON line per frame with boxes inside the source image', async () => {
    const { stdout, stderr } = await run(png, jpeg, video, ...model(), '--json', '--score', LOW_SCORE);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as FrameLine);
    expect(lines.map((line) => [line.source, line.frame])).toEqual([
      [png, 0],
      [jpeg, 0],
      ...Array.from({ length: 10 }, (_, frame) => [video, frame]),
    ]);
    const sizes = new Map<string, [number, number]>([
      [png, [200, 150]],
      [jpeg, [160, 120]],
      [video, [320, 240]],
    ]);
    const detections = lines.flatMap((line) => line.detections.map((d) => ({ ...d, source: line.source })));
    expect(detections.length).toBeGreaterThan(0);
    for (const { label, score, box, source } of detections) {
      const [width, height] = sizes.get(source) ?? [0, 0];
      expect(LABELS).toContain(label);
      expect(score).toBeGreaterThanOrEqual(Number(LOW_SCORE));
      expect(score).toBeLessThanOrEqual(1);
      const [x, y, w, h] = box;
      expect(Math.min(x, y)).toBeGreaterThanOrEqual(0);
      expect(Math.min(w, h)).toBeGreaterThan(0);
      expect(x + w).toBeLessThanOrEqual(width);
      expect(y + h).toBeLessThanOrEqual(height);
    }
    expect(stderr).toMatch(/clip\.mp4: 10 frames in [\d.]+ s \([\d.]+ FPS/);
  });

  it('gives every frame of a still video the same detections', async () => {
    const still = join(directory, 'still.mp4');
    ffmpeg(
      '-loop',
      '1',
      '-i',
      png,
      '-frames:v',
      '3',
      '-c:v',
      'libx264',
      '-qp',
      '0',
      '-pix_fmt',
      'yuv444p',
      still,
    );
    const frames = (await run(still, ...model(), '--json', '--score', LOW_SCORE)).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as FrameLine);
    expect(frames).toHaveLength(3);
    expect(frames[1]?.detections).toEqual(frames[0]?.detections);
    expect(frames[2]?.detections).toEqual(frames[0]?.detections);
  });

  it('prints a readable block per frame without --json, and fewer boxes at a higher --score', async () => {
    const { stdout } = await run(png, ...model(), '--score', LOW_SCORE, '--threads', '1');
    expect(stdout).toMatch(new RegExp(`^${png} frame 0: \\d+ detections?\\n`));
    expect(stdout).toMatch(
      /\n {2}(Happiness|Sadness|Surprise|Anger) 0\.\d{3} {2}x=[\d.]+ y=[\d.]+ w=[\d.]+ h=[\d.]+\n/,
    );
    const strict = JSON.parse((await run(png, ...model(), '--json', '--score', '0.99')).stdout) as FrameLine;
    expect(strict.detections).toEqual([]);
  });

  it('reports a missing input with exit code 2', async () => {
    const missing = join(directory, 'nowhere.jpg');
    const error = await failure(missing, ...model());
    expect(error.message).toBe(`${missing}: no such file`);
    expect(error.exitCode).toBe(DetectExitCode.badInput);
  });

  it('reports an undecodable input with exit code 2', async () => {
    const corrupt = join(directory, 'corrupt.mp4');
    writeFileSync(corrupt, 'this is not a video\n');
    const error = await failure(corrupt, ...model());
    expect(error.message).toBe(`cannot decode ${corrupt}: Invalid data found when processing input`);
    expect(error.message).not.toContain('\n');
    expect(error.exitCode).toBe(DetectExitCode.badInput);
  });

  it('names the weights file and the layer when the weights do not match the cfg (exit code 3)', async () => {
    const truncated = join(directory, 'truncated.weights');
    writeFileSync(truncated, readFileSync(weights).subarray(0, 5000));
    const error = await failure(png, '--cfg', TINY_CFG, '--weights', truncated);
    expect(error.message).toMatch(
      new RegExp(`^bad weights: ${truncated}: expected \\d+ bytes, got 5000, ran out in layer \\d+ `),
    );
    expect(error.exitCode).toBe(DetectExitCode.badModel);
  });

  it('names the cfg file and line of a bad cfg (exit code 3)', async () => {
    const badCfg = join(directory, 'bad.cfg');
    writeFileSync(badCfg, readFileSync(TINY_CFG, 'utf8').replace('size=3', 'size=banana'));
    const error = await failure(png, '--cfg', badCfg, '--weights', weights);
    expect(error.message).toMatch(new RegExp(`^bad cfg: ${badCfg}:\\d+: `));
    expect(error.exitCode).toBe(DetectExitCode.badModel);
  });

  it('reports an unreadable names file as such (exit code 3)', async () => {
    const names = join(directory, 'missing.names');
    const error = await failure(png, '--cfg', TINY_CFG, '--weights', weights, '--names', names);
    expect(error.message).toMatch(new RegExp(`^cannot read names file ${names}: .*ENOENT: no such file`));
    expect(error.exitCode).toBe(DetectExitCode.badModel);
  });

  it('tells how to install ffmpeg when it is not on PATH (exit code 4)', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = directory;
    try {
      const error = await failure(png, ...model());
      expect(error.message).toBe(
        'ffprobe not found on PATH: install ffmpeg (Debian/Ubuntu: apt install ffmpeg)',
      );
      expect(error.exitCode).toBe(DetectExitCode.decoderMissing);
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('rejects a score outside 0..1 before loading anything', async () => {
    await expect(run(png, ...model(), '--score', '1.5')).rejects.toThrow(
      "option '--score <min>' argument '1.5' is invalid. '1.5' is not a number between 0 and 1",
    );
  });
});
