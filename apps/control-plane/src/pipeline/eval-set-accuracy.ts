import { posix } from 'node:path';
import { type Detector } from '@emofleet/detector';
import { decode as decodeJpeg } from 'jpeg-js';
import { type ArtifactStore } from '../artifacts/artifact-store';
import { IMAGE_EXTENSIONS, walkArchive } from '../models/eval-set-archive';

/** Decoded images larger than this are refused by the JPEG decoder (a decompression-bomb guard). */
const MAX_IMAGE_MEGAPIXELS = 64;

export interface EvalSetAccuracy {
  /** Share of evaluated images whose expression is detected correctly (0..1); null when none was evaluated. */
  accuracy: number | null;
  evaluated: number;
  correct: number;
  /** Images that could not be evaluated (format not decodable here), with the reason. */
  skipped: Array<{ image: string; reason: string }>;
}

/**
 * Accuracy on an eval set (images + darknet labels): an image counts as correct when the detector's
 * highest-scoring detection has the class of the image's largest labelled box (the face whose expression
 * the image shows). No detection counts as wrong. JPEG images are decoded here; PNG and BMP are skipped and
 * listed, so the number never silently covers fewer images than it claims.
 */
export async function evalSetAccuracy(
  detector: Detector,
  store: ArtifactStore,
  evalSet: { sha256: string; sizeBytes: number; fileName: string },
): Promise<EvalSetAccuracy> {
  const images = new Map<string, { name: string; bytes: Buffer }>();
  const labels = new Map<string, string>();
  await walkArchive(
    store,
    evalSet.sha256,
    evalSet.sizeBytes,
    async (entry) => {
      if (entry.isDirectory) return;
      const extension = posix.extname(entry.name).toLowerCase();
      const stem = entry.name.slice(0, entry.name.length - extension.length);
      if (IMAGE_EXTENSIONS.has(extension)) images.set(stem, { name: entry.name, bytes: await entry.read() });
      else if (extension === '.txt') labels.set(stem, (await entry.read()).toString('utf8'));
    },
    evalSet.fileName,
  );
  let evaluated = 0;
  let correct = 0;
  const skipped: EvalSetAccuracy['skipped'] = [];
  for (const [stem, image] of images) {
    const expected = labelledExpression(labels.get(stem) ?? '');
    if (expected === undefined) {
      skipped.push({ image: image.name, reason: 'its label file has no box' });
      continue;
    }
    const extension = posix.extname(image.name).toLowerCase();
    if (extension !== '.jpg' && extension !== '.jpeg') {
      skipped.push({ image: image.name, reason: `${extension} images are not decoded by the benchmark` });
      continue;
    }
    let rgb: { width: number; height: number; data: Uint8Array };
    try {
      rgb = decodeJpeg(image.bytes, {
        useTArray: true,
        formatAsRGBA: false,
        maxResolutionInMP: MAX_IMAGE_MEGAPIXELS,
      });
    } catch (error) {
      skipped.push({ image: image.name, reason: `not a decodable JPEG (${(error as Error).message})` });
      continue;
    }
    const detections = await detector.detect(
      Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength),
      {
        width: rgb.width,
        height: rgb.height,
        format: 'rgb24',
      },
    );
    const best = detections.reduce<(typeof detections)[number] | undefined>(
      (top, detection) => (top === undefined || detection.score > top.score ? detection : top),
      undefined,
    );
    evaluated += 1;
    if (best?.classId === expected) correct += 1;
  }
  return { accuracy: evaluated > 0 ? correct / evaluated : null, evaluated, correct, skipped };
}

/** The class of the largest box of a darknet label file (`class cx cy w h` per line, checked at upload). */
function labelledExpression(content: string): number | undefined {
  let best: { classId: number; area: number } | undefined;
  for (const line of content.split(/\r?\n/)) {
    const [classId, , , width, height] = line.trim().split(/\s+/).map(Number);
    if (classId === undefined || width === undefined || height === undefined || Number.isNaN(classId))
      continue;
    const area = width * height;
    if (best === undefined || area > best.area) best = { classId, area };
  }
  return best?.classId;
}
