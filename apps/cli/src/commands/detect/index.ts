import { InvalidArgumentError, type Command } from 'commander';
import { DetectExitCode } from './detect-exit-codes';
import { FfmpegFrameDecoder } from './ffmpeg-frame-decoder';
import { runDetect } from './run-detect';

interface DetectCommandOptions {
  readonly cfg: string;
  readonly weights: string;
  readonly names?: string;
  readonly json?: boolean;
  readonly score: number;
  readonly iou: number;
  readonly threads: number;
}

const MAX_THREADS = 256;

function unitInterval(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new InvalidArgumentError(`'${value}' is not a number between 0 and 1`);
  }
  return parsed;
}

function threadCount(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > MAX_THREADS) {
    throw new InvalidArgumentError(`'${value}' is not 0 (all cores) or an integer 1..${MAX_THREADS}`);
  }
  return parsed;
}

const EXIT_CODES_HELP = `
Decoding uses ffmpeg and ffprobe (Debian/Ubuntu: apt install ffmpeg). Boxes are [x, y, width, height] in
source pixels, clipped to the frame. A summary per source (frames, FPS) goes to stderr.

Exit codes:
  0  every source was decoded and run
  1  anything else (bad option, detector not built)
  ${DetectExitCode.badInput}  an input is missing or cannot be decoded
  ${DetectExitCode.badModel}  the cfg, weights or names cannot be loaded
  ${DetectExitCode.decoderMissing}  ffmpeg / ffprobe are not installed

Example:
  emofleet detect face.jpg clip.mp4 --cfg yolov2-tiny-expression.cfg --weights tiny.weights \\
    --names expressions.names --json`;

export function registerDetectCommand(program: Command): void {
  program
    .command('detect')
    .description(
      'Run the native expression detector on images, videos or stream URLs and print the detections of every frame',
    )
    .argument(
      '<sources...>',
      'images (jpg, png, bmp, ...), videos (mp4, avi, mkv, ...) or rtsp:// / http:// URLs',
    )
    .requiredOption('--cfg <file>', 'darknet .cfg of a network ending in [region]')
    .requiredOption('--weights <file>', 'darknet .weights matching the cfg')
    .option('--names <file>', 'class labels, one per line (default: class0, class1, ...)')
    .option(
      '--json',
      'one object per frame and line: {"source","frame","detections":[{"label","score","box":[x,y,w,h]}]}',
    )
    .option('--score <min>', 'keep detections scoring at least this (0..1)', unitInterval, 0.25)
    .option('--iou <t>', 'per-class non-maximum suppression IoU threshold (0..1)', unitInterval, 0.45)
    .option('--threads <n>', 'inference threads, 0 = all cores', threadCount, 0)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (sources: string[], options: DetectCommandOptions) => {
      await runDetect(
        sources,
        {
          cfg: options.cfg,
          weights: options.weights,
          names: options.names,
          threads: options.threads,
          json: options.json ?? false,
          scoreThreshold: options.score,
          iouThreshold: options.iou,
        },
        new FfmpegFrameDecoder(),
        {
          write: (text) => process.stdout.write(text),
          summary: (text) => process.stderr.write(text),
        },
      );
    });
}
