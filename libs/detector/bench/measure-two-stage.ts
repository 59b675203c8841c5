/**
 * Child process of the benchmark: face-api's face detector alone, or with the expression net on every face (the
 * two-stage pipeline), both converted by libs/darknet, on frames of the demo video. Prints one JSON TwoStageRow.
 *   node --import tsx measure-two-stage.ts <detect|detect+classify> <seconds> <threads>
 */
import { createDetector } from '../src';
import {
  demoVideoFrames,
  FACEAPI_THRESHOLDS,
  faceapiTwoStageOptions,
} from '../test/support/faceapi-two-stage';
import { peakRssMb, summarise } from './timing';
import { isTwoStageMode, type TwoStageRow } from './two-stage';

/** Every 10th frame of the demo video: 36 different frames, 1 to 5 faces each. */
const FRAME_STEP = 10;

async function main(): Promise<void> {
  const [mode = '', secondsText = '8', threadsText = '0'] = process.argv.slice(2);
  if (!isTwoStageMode(mode)) throw new Error(`unknown mode '${mode}' (detect, detect+classify)`);
  const seconds = Number(secondsText);
  const threads = Number(threadsText);
  const { classifier, ...detectorOnly } = faceapiTwoStageOptions(threads);
  const detector = await createDetector(mode === 'detect' ? detectorOnly : { ...detectorOnly, classifier });
  const frames = demoVideoFrames(FRAME_STEP);
  const description = { width: 640, height: 480, format: 'rgb24' } as const;
  for (let i = 0; i < 2; i += 1) await detector.detect(frames[i]!.rgb, description, FACEAPI_THRESHOLDS);
  // Two calls in flight, as a camera loop with pipelining: one call's first stage overlaps the other's second.
  const samples: number[] = [];
  let faces = 0;
  let next = 0;
  const start = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - start) / 1e9;
  const lane = async (): Promise<void> => {
    while (samples.length < 10 || elapsed() < seconds) {
      const frame = frames[next++ % frames.length]!;
      const before = process.hrtime.bigint();
      const found = await detector.detect(frame.rgb, description, FACEAPI_THRESHOLDS);
      samples.push(Number(process.hrtime.bigint() - before) / 1e6);
      faces += found.length;
    }
  };
  await Promise.all([lane(), lane()]);
  const timing = summarise(samples, elapsed());
  const row: TwoStageRow = {
    mode,
    threads: detector.info.threads,
    ...timing,
    facesPerFrame: faces / samples.length,
    rssMb: peakRssMb(),
    detectorGflops: detector.info.flops / 1e9,
    classifierGflops: (detector.info.classifier?.flops ?? 0) / 1e9,
  };
  detector.dispose();
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
