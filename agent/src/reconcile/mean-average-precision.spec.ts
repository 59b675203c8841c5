import {
  allPointAveragePrecision,
  meanAveragePrecision,
  type EvaluatedImage,
  type ScoredBox,
} from './mean-average-precision';

const box = (x: number, y: number, width: number, height: number) => ({ x, y, width, height });
const truth = (label: string, b = box(0, 0, 0.5, 0.5)) => ({ label, box: b });
const detection = (label: string, score: number, b = box(0, 0, 0.5, 0.5)): ScoredBox => ({
  label,
  score,
  box: b,
});

describe('allPointAveragePrecision (VOC all-point interpolation)', () => {
  it('is 1 for a perfect ranking and 0 without a true positive', () => {
    expect(allPointAveragePrecision([true, true], 2)).toBe(1);
    expect(allPointAveragePrecision([false, false], 2)).toBe(0);
    expect(allPointAveragePrecision([], 3)).toBe(0);
  });

  it('integrates the interpolated precision over recall', () => {
    // TP, FP, TP of 2 ground-truth boxes: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1. Interpolated: 1 up to
    // recall 1/2, then max(2/3) = 2/3 up to recall 1 → 1/2 · 1 + 1/2 · 2/3 = 5/6.
    expect(allPointAveragePrecision([true, false, true], 2)).toBeCloseTo(5 / 6, 12);
    // FP, TP, FP, TP of 2: precision 1/2 at recall 1/2, 1/2 at recall 1 → 1/2.
    expect(allPointAveragePrecision([false, true, false, true], 2)).toBeCloseTo(0.5, 12);
    // FP, TP of 1: precision 1/2 at recall 1 → 1/2.
    expect(allPointAveragePrecision([false, true], 1)).toBeCloseTo(0.5, 12);
  });

  it('counts recall never reached as zero area', () => {
    // One TP of 4 ground-truth boxes, first: precision 1 up to recall 1/4 → 1/4.
    expect(allPointAveragePrecision([true, false], 4)).toBeCloseTo(0.25, 12);
  });

  it('refuses a class without ground truth', () => {
    expect(() => allPointAveragePrecision([true], 0)).toThrow(/at least one ground-truth box/);
  });
});

describe('meanAveragePrecision at IoU 0.5', () => {
  it('is 1 when every box is found once, in any image order', () => {
    const images: EvaluatedImage[] = [
      { groundTruth: [truth('happy')], detections: [detection('happy', 0.9)] },
      {
        groundTruth: [truth('sad', box(0.5, 0.5, 0.4, 0.4))],
        detections: [detection('sad', 0.3, box(0.5, 0.5, 0.4, 0.4))],
      },
    ];
    expect(meanAveragePrecision(images)).toEqual({ map: 1, perClass: { happy: 1, sad: 1 } });
  });

  it('counts IoU exactly 0.5 as a match and just below as a miss', () => {
    // Ground truth 0.5 x 0.5; detection 0.25 x 0.5 inside it: IoU = 0.125 / 0.25 = 0.5 exactly.
    const atThreshold = meanAveragePrecision([
      { groundTruth: [truth('happy')], detections: [detection('happy', 0.9, box(0, 0, 0.25, 0.5))] },
    ]);
    expect(atThreshold.map).toBe(1);
    const below = meanAveragePrecision([
      { groundTruth: [truth('happy')], detections: [detection('happy', 0.9, box(0, 0, 0.24, 0.5))] },
    ]);
    expect(below.map).toBe(0);
  });

  it('ranks detections of all images together by score (TP, FP, TP → 5/6)', () => {
    const images: EvaluatedImage[] = [
      // The 0.8 detection is in the wrong place (IoU 0): a false positive between two true positives.
      {
        groundTruth: [truth('happy')],
        detections: [detection('happy', 0.9), detection('happy', 0.8, box(0.5, 0.5, 0.5, 0.5))],
      },
      { groundTruth: [truth('happy')], detections: [detection('happy', 0.7)] },
    ];
    expect(meanAveragePrecision(images).map).toBeCloseTo(5 / 6, 12);
  });

  it('counts a second detection of an already matched box as a false positive', () => {
    // 0.9 TP, 0.8 duplicate FP; the other ground-truth box (elsewhere) is missed: recall 1/2, AP = 1/2.
    const images: EvaluatedImage[] = [
      {
        groundTruth: [truth('happy'), truth('happy', box(0.5, 0.5, 0.5, 0.5))],
        detections: [detection('happy', 0.9), detection('happy', 0.8, box(0, 0, 0.5, 0.45))],
      },
    ];
    expect(meanAveragePrecision(images).perClass.happy).toBeCloseTo(0.5, 12);
  });

  it('matches each detection to its best-overlapping box of its own class only', () => {
    // The detection overlaps a "sad" box perfectly and the "happy" box at IoU 0.5: it matches "happy".
    const images: EvaluatedImage[] = [
      {
        groundTruth: [truth('sad', box(0, 0, 0.25, 0.5)), truth('happy')],
        detections: [detection('happy', 0.9, box(0, 0, 0.25, 0.5))],
      },
    ];
    expect(meanAveragePrecision(images)).toEqual({ map: 0.5, perClass: { sad: 0, happy: 1 } });
  });

  it('averages over classes with ground truth only: a wrong label is a miss for one class and ignored for the other', () => {
    // Image 1: happy found. Image 2: the "sad" face is detected as "angry": sad AP 0, angry has no ground truth.
    const images: EvaluatedImage[] = [
      { groundTruth: [truth('happy')], detections: [detection('happy', 0.6)] },
      { groundTruth: [truth('sad')], detections: [detection('angry', 0.95)] },
    ];
    expect(meanAveragePrecision(images)).toEqual({ map: 0.5, perClass: { happy: 1, sad: 0 } });
  });

  it('is null without ground truth', () => {
    expect(meanAveragePrecision([{ groundTruth: [], detections: [detection('happy', 0.9)] }])).toEqual({
      map: null,
      perClass: {},
    });
  });

  it('uses a stricter threshold when given one (mAP@0.75)', () => {
    const images: EvaluatedImage[] = [
      { groundTruth: [truth('happy')], detections: [detection('happy', 0.9, box(0, 0, 0.5, 0.3))] },
    ];
    // IoU 0.6: a match at 0.5, not at 0.75.
    expect(meanAveragePrecision(images).map).toBe(1);
    expect(meanAveragePrecision(images, 0.75).map).toBe(0);
  });
});
