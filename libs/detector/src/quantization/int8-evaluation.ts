import { createDetector } from '../create-detector';
import { type Detector } from '../detector';
import type { FrameDescription } from '../types';
import { type Int8Plan } from './int8-plan';

/** A frame with its expected class: a label's class, or (unlabelled) the FP32 model's top class, -1 for none. */
export interface LabelledFrame {
  readonly data: Uint8Array;
  readonly description: FrameDescription;
  readonly expectedClass: number;
}

/** The class of the highest-scoring detection, -1 when there is none. */
export async function topClass(
  detector: Detector,
  frame: { data: Uint8Array; description: FrameDescription },
): Promise<number> {
  const detections = await detector.detect(frame.data, frame.description);
  let best: { classId: number; score: number } | undefined;
  for (const detection of detections) if (!best || detection.score > best.score) best = detection;
  return best ? best.classId : -1;
}

/** Labels unlabelled frames with the FP32 model's top class (so agreement with FP32 is the accuracy). */
export async function labelWithFp32(
  model: { cfg: string; weights: Buffer; threads?: number },
  frames: ReadonlyArray<{ data: Uint8Array; description: FrameDescription }>,
): Promise<LabelledFrame[]> {
  const detector = await createDetector({
    cfg: model.cfg,
    weights: model.weights,
    threads: model.threads ?? 0,
  });
  try {
    const labelled: LabelledFrame[] = [];
    for (const frame of frames) labelled.push({ ...frame, expectedClass: await topClass(detector, frame) });
    return labelled;
  } finally {
    detector.dispose();
  }
}

/** Share of frames whose top detection has the expected class (0..1), with `plan` (or FP32 without). */
export async function outputAgreement(
  model: { cfg: string; weights: Buffer; threads?: number; plan: Int8Plan | undefined },
  frames: readonly LabelledFrame[],
): Promise<number> {
  if (frames.length === 0) return 0;
  const detector = await createDetector({
    cfg: model.cfg,
    weights: model.weights,
    threads: model.threads ?? 0,
    ...(model.plan ? { int8Plan: model.plan } : {}),
  });
  try {
    let correct = 0;
    for (const frame of frames) if ((await topClass(detector, frame)) === frame.expectedClass) correct += 1;
    return correct / frames.length;
  } finally {
    detector.dispose();
  }
}
