import { type BoundingBox } from '@emofleet/protocol';
import { intersectionOverUnion } from '../tracker/box-geometry';

/** One labelled box of an eval image (frame-relative, top-left corner + size). */
export interface GroundTruthBox {
  readonly label: string;
  readonly box: BoundingBox;
}

/** One detection of an eval image. */
export interface ScoredBox {
  readonly label: string;
  readonly score: number;
  readonly box: BoundingBox;
}

/** Ground truth and detections of one eval image. */
export interface EvaluatedImage {
  readonly groundTruth: readonly GroundTruthBox[];
  readonly detections: readonly ScoredBox[];
}

export interface MeanAveragePrecision {
  /** Mean of `perClass` over the classes with at least one ground-truth box; null when there are none. */
  readonly map: number | null;
  /** Average precision of every class that has ground truth. */
  readonly perClass: Readonly<Record<string, number>>;
}

/**
 * Average precision of one class from its ranked true/false positive flags, all-point interpolated (PASCAL VOC
 * 2010+): the area under the precision/recall curve after replacing each precision with the highest precision
 * at any equal or greater recall.
 */
export function allPointAveragePrecision(
  truePositives: readonly boolean[],
  groundTruthCount: number,
): number {
  if (groundTruthCount <= 0) throw new RangeError('average precision needs at least one ground-truth box');
  const recall: number[] = [0];
  const precision: number[] = [0];
  let tp = 0;
  for (const [rank, hit] of truePositives.entries()) {
    if (hit) tp += 1;
    recall.push(tp / groundTruthCount);
    precision.push(tp / (rank + 1));
  }
  recall.push(1);
  precision.push(0);
  for (let i = precision.length - 2; i >= 0; i -= 1) {
    precision[i] = Math.max(precision[i] as number, precision[i + 1] as number);
  }
  let area = 0;
  for (let i = 1; i < recall.length; i += 1) {
    area += ((recall[i] as number) - (recall[i - 1] as number)) * (precision[i] as number);
  }
  return area;
}

/**
 * mAP at an IoU threshold (default 0.5: mAP@0.5), VOC style. Per class, the detections of all images are ranked
 * by score (ties keep image order, then detection order); each is a true positive when its best-overlapping
 * ground-truth box of the same class in its image has IoU >= the threshold and was not matched by a
 * higher-ranked detection, else a false positive (duplicates count as false positives). Classes without ground
 * truth are left out of the mean; a class with ground truth but no detections counts 0.
 */
export function meanAveragePrecision(
  images: readonly EvaluatedImage[],
  iouThreshold = 0.5,
): MeanAveragePrecision {
  const groundTruthCounts = new Map<string, number>();
  for (const image of images) {
    for (const truth of image.groundTruth) {
      groundTruthCounts.set(truth.label, (groundTruthCounts.get(truth.label) ?? 0) + 1);
    }
  }
  const perClass: Record<string, number> = {};
  for (const [label, count] of groundTruthCounts) {
    const ranked = images
      .flatMap((image, imageIndex) =>
        image.detections
          .filter((detection) => detection.label === label)
          .map((detection) => ({ imageIndex, detection })),
      )
      .sort((a, b) => b.detection.score - a.detection.score);
    const matched = images.map((image) => image.groundTruth.map(() => false));
    const hits = ranked.map(({ imageIndex, detection }) => {
      const truths = (images[imageIndex] as EvaluatedImage).groundTruth;
      let best = -1;
      let bestIou = -1;
      truths.forEach((truth, truthIndex) => {
        if (truth.label !== label) return;
        const iou = intersectionOverUnion(detection.box, truth.box);
        if (iou > bestIou) {
          bestIou = iou;
          best = truthIndex;
        }
      });
      const taken = matched[imageIndex] as boolean[];
      if (best < 0 || bestIou < iouThreshold || taken[best] === true) return false;
      taken[best] = true;
      return true;
    });
    perClass[label] = allPointAveragePrecision(hits, count);
  }
  const values = Object.values(perClass);
  return {
    map: values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length,
    perClass,
  };
}
