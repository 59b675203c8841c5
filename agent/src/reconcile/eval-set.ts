import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type DetectorAdapter } from '../detector';
import { readBundleContents } from './bundle-contents';
import { decodeImageFile, listImages } from '../sources';
import { meanAveragePrecision, type EvaluatedImage, type GroundTruthBox } from './mean-average-precision';

export interface EvalSetOptions {
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly ffmpegPath?: string;
}

export interface EvalSetResult {
  readonly images: number;
  /**
   * The paper's accuracy: the share of images whose expression is detected correctly, i.e. whose best
   * detection has the label of the image's first ground-truth line.
   */
  readonly accuracy: number;
  /** mAP@0.5 (VOC all-point AP per class at IoU 0.5, mean over the classes in the ground truth). */
  readonly map50: number;
  readonly averagePrecisionPerClass: Readonly<Record<string, number>>;
}

/** The label file is not darknet format; the message names the file and line. */
export class EvalSetError extends Error {
  override readonly name = 'EvalSetError';
}

/**
 * Parses a darknet label file: one `<class id> <cx> <cy> <w> <h>` line per face, class ids indexing
 * model.names, centre and size relative to the image. Boxes come back as top-left corner + size.
 */
export function parseDarknetLabels(text: string, names: readonly string[], file: string): GroundTruthBox[] {
  const boxes: GroundTruthBox[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const where = `${file}:${index + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 5) {
      throw new EvalSetError(`${where}: expected "<class id> <cx> <cy> <w> <h>", got "${line}"`);
    }
    const [classId, cx, cy, width, height] = fields.map(Number) as [number, number, number, number, number];
    const label = Number.isInteger(classId) ? names[classId] : undefined;
    if (label === undefined) {
      throw new EvalSetError(
        `${where}: class id "${fields[0]}" is not a line of model.names (0..${names.length - 1})`,
      );
    }
    const coordinates = [cx, cy, width, height];
    if (!coordinates.every((value) => Number.isFinite(value) && value >= 0 && value <= 1)) {
      throw new EvalSetError(
        `${where}: centre and size must be numbers in [0, 1], got "${fields.slice(1).join(' ')}"`,
      );
    }
    boxes.push({ label, box: { x: cx - width / 2, y: cy - height / 2, width, height } });
  }
  return boxes;
}

/**
 * Runs the detector on the bundle's eval set (`eval/<image>` + darknet labels `eval/<image stem>.txt`, images
 * scaled to the frame size like live frames) and scores it. Null when the bundle has no eval images. Every image
 * needs a label file with at least one line.
 */
export async function evaluateEvalSet(
  detector: DetectorAdapter,
  bundleDirectory: string,
  options: EvalSetOptions,
): Promise<EvalSetResult | null> {
  const images = await listImages(path.join(bundleDirectory, 'eval')).catch(() => []);
  if (images.length === 0) return null;
  // Class ids index the labels detections carry (a two-stage bundle's classifier labels, mapped by bundle.json).
  const names = (await readBundleContents(bundleDirectory)).reportedLabels;
  const evaluated: EvaluatedImage[] = [];
  let correct = 0;
  for (const [index, image] of images.entries()) {
    const labelFile = image.replace(/\.[^.]+$/, '.txt');
    const text = await fs.readFile(labelFile, 'utf8').catch(() => '');
    const groundTruth = parseDarknetLabels(text, names, labelFile);
    const expected = groundTruth[0]?.label;
    if (expected === undefined) {
      throw new EvalSetError(`${labelFile}: no darknet label line for ${path.basename(image)}`);
    }
    const data = await decodeImageFile(image, options.frameWidth, options.frameHeight, options.ffmpegPath);
    const detections = await detector.detect({
      index,
      timestamp: Date.now(),
      width: options.frameWidth,
      height: options.frameHeight,
      format: 'rgb24',
      data,
    });
    const best = [...detections].sort((a, b) => b.score - a.score)[0];
    if (best?.label === expected) correct += 1;
    evaluated.push({ groundTruth, detections });
  }
  const { map, perClass } = meanAveragePrecision(evaluated, 0.5);
  return {
    images: images.length,
    accuracy: correct / images.length,
    map50: map ?? 0,
    averagePrecisionPerClass: perClass,
  };
}
