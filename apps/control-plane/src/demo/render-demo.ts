/**
 * `npm run demo:render [-- <photo> [--out <dir>]]`: runs the demo's two-stage bundle (face-api's face detector and
 * expression net, imported by libs/darknet, on the native detector) over one of face-api's demo photos (default
 * sample1.jpg) and writes the photo with the boxes and labels drawn in as `<out>/<photo stem>.png` (default
 * reports/demo). The bundle is imported under $EMOFLEET_DATA_DIR/demo (default .emofleet) if `npm start` did not
 * already.
 */
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { locateFaceapiPackage } from '@emofleet/darknet';
import { DemoDetectorAdapter } from './demo-detector.adapter';
import { DemoLayout } from './demo-layout';
import { detectionsOverlayFilter } from './detections-overlay';
import { prepareFaceapiBundle } from './faceapi-bundle';
import { FfmpegAdapter } from './ffmpeg.adapter';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const faceapi = locateFaceapiPackage();
  const requested = process.argv
    .slice(2)
    .find((arg, index, all) => !arg.startsWith('--') && all[index - 1] !== '--out');
  const photo =
    requested === undefined
      ? faceapi.photos[0]
      : (faceapi.photos.find((p) => basename(p) === requested) ?? resolve(requested));
  if (photo === undefined) throw new Error('face-api has no demo photos');
  const outDirectory = resolve(option('out') ?? join('reports', 'demo'));
  const layout = DemoLayout.under(process.env.EMOFLEET_DATA_DIR ?? '.emofleet');
  mkdirSync(layout.importDirectory, { recursive: true });
  const files = prepareFaceapiBundle(faceapi.modelDir, layout.importDirectory);
  const started = performance.now();
  const [labelled] = await new DemoDetectorAdapter().detectPhotos(files, [photo]);
  const milliseconds = performance.now() - started;
  if (!labelled) throw new Error(`no result for ${photo}`);
  for (const detection of labelled.detections) {
    const { x, y, width, height } = detection.box;
    process.stdout.write(
      `${detection.label.padEnd(10)} score ${detection.score.toFixed(3)} (face ${detection.classification?.detectorScore.toFixed(3)}) ` +
        `box ${Math.round(x)},${Math.round(y)} ${Math.round(width)}x${Math.round(height)}\n`,
    );
  }
  mkdirSync(outDirectory, { recursive: true });
  const output = join(outDirectory, `${basename(photo, extname(photo))}.png`);
  await new FfmpegAdapter().writeFile([
    ...['-hide_banner', '-loglevel', 'error', '-i', photo],
    ...['-vf', detectionsOverlayFilter(labelled.detections, labelled.width), '-frames:v', '1', output],
  ]);
  process.stdout.write(
    `${labelled.detections.length} faces in ${basename(photo)} (${labelled.width}x${labelled.height}; loading the ` +
      `two networks and one two-stage pass took ${milliseconds.toFixed(0)} ms) -> ${output}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
