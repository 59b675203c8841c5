import { DetectorError, type Detector } from '@emofleet/detector';
import { CliError } from '../../cli-error';
import type { FrameDecoder } from './frame-decoder';
import { formatFrameJson, formatFrameText, reportDetection, type FrameReport } from './frame-report';
import { loadDetector, type ModelFiles } from './load-detector';

export interface DetectRunOptions extends ModelFiles {
  readonly json: boolean;
  readonly scoreThreshold: number;
  readonly iouThreshold: number;
}

export interface DetectOutput {
  /** Frame reports (stdout). */
  write(text: string): void;
  /** Per-source summaries: frames and frames per second (stderr). */
  summary(text: string): void;
}

async function detectSource(
  detector: Detector,
  decoder: FrameDecoder,
  source: string,
  options: DetectRunOptions,
  output: DetectOutput,
): Promise<void> {
  const started = process.hrtime.bigint();
  let frames = 0;
  for await (const frame of decoder.frames(source)) {
    const description = { width: frame.width, height: frame.height, format: 'rgb24' } as const;
    const detections = await detector
      .detect(frame.rgb, description, {
        scoreThreshold: options.scoreThreshold,
        iouThreshold: options.iouThreshold,
      })
      .catch((error: unknown) => {
        if (!(error instanceof DetectorError)) throw error;
        throw new CliError(`${source} frame ${frame.index}: ${error.message}`);
      });
    const report: FrameReport = {
      source,
      frame: frame.index,
      detections: detections.flatMap((detection) => {
        const reported = reportDetection(detection, frame.width, frame.height);
        return reported === undefined ? [] : [reported];
      }),
    };
    output.write(options.json ? formatFrameJson(report) : formatFrameText(report));
    frames += 1;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  output.summary(
    `${source}: ${frames} frame${frames === 1 ? '' : 's'} in ${seconds.toFixed(2)} s ` +
      `(${(frames / seconds).toFixed(2)} FPS, decoding included)\n`,
  );
}

/**
 * `emofleet detect`: loads the network once, then runs every source through it frame by frame, in order.
 * Exactly one frame is in flight: the next one is decoded only after the current one's detections are out.
 */
export async function runDetect(
  sources: readonly string[],
  options: DetectRunOptions,
  decoder: FrameDecoder,
  output: DetectOutput,
): Promise<void> {
  const detector = await loadDetector(options);
  try {
    for (const source of sources) await detectSource(detector, decoder, source, options, output);
  } finally {
    detector.dispose();
  }
}
