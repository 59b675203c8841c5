import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  createDetector,
  type Detector,
  type FrameDescription,
  type NetworkInput,
  type PadToSquareInput,
} from '@emofleet/detector';
import { type EvalSetAccuracy } from './eval-set-accuracy';

/** A camera-sized frame; the detector letterboxes it to the network input as on a device. */
const SYNTHETIC_FRAME: FrameDescription = { width: 640, height: 480, format: 'bgr24' };
const DISTINCT_SYNTHETIC_FRAMES = 4;

export interface BenchmarkModel {
  cfg: string;
  weights: Buffer;
  names?: readonly string[];
  /** bundle.json's detector input (default: letterbox). */
  input?: NetworkInput;
  /** The second stage of a two-stage bundle. */
  classifier?: { cfg: string; weights: Buffer; names: readonly string[]; input: PadToSquareInput };
}

export interface BenchmarkSettings {
  warmupFrames: number;
  measuredFrames: number;
  /** Inference threads; 0 = all cores. */
  threads: number;
}

/** The version's baseline as stored on it (`model_versions.baseline`). */
export interface DetectorBaseline {
  backend: 'cpu';
  source: 'synthetic-frames';
  frame: FrameDescription;
  frames: number;
  threads: number;
  fps: number;
  latencyMs: { p50: number; p95: number; mean: number };
  /** Share of eval-set images whose expression is detected correctly; null when no eval set was run. */
  accuracy: number | null;
  accuracyNote: string;
  evalSet: Omit<EvalSetAccuracy, 'accuracy'> | null;
  measuredAt: string;
}

/**
 * Runs the native detector (CPU backend; with a two-stage bundle, detector and classifier) on synthetic frames,
 * one call at a time as a device's camera loop does, and measures per-frame latency and the resulting frame rate.
 * Random frames hold no faces, so a classifier stage mostly idles here; the eval set run exercises both stages. Frame content does not change the cost of
 * a YOLO v2 forward pass; it can change only the (small) NMS work. `measureAccuracy` then runs the same
 * detector over the eval set, or returns null when the version has none.
 */
export async function benchmarkDetector(
  model: BenchmarkModel,
  settings: BenchmarkSettings,
  measureAccuracy: (detector: Detector) => Promise<EvalSetAccuracy | null>,
): Promise<DetectorBaseline> {
  const detector = await createDetector({
    cfg: model.cfg,
    weights: model.weights,
    ...(model.names ? { names: model.names } : {}),
    ...(model.input ? { input: model.input } : {}),
    ...(model.classifier ? { classifier: model.classifier } : {}),
    backend: 'cpu',
    threads: settings.threads,
  });
  try {
    const frameBytes = SYNTHETIC_FRAME.width * SYNTHETIC_FRAME.height * 3;
    const frames = Array.from({ length: DISTINCT_SYNTHETIC_FRAMES }, () =>
      randomFillSync(Buffer.alloc(frameBytes)),
    );
    const frameAt = (index: number): Buffer => frames[index % frames.length] as Buffer;
    for (let index = 0; index < settings.warmupFrames; index += 1) {
      await detector.detect(frameAt(index), SYNTHETIC_FRAME);
    }
    const latencies: number[] = [];
    const started = performance.now();
    for (let index = 0; index < settings.measuredFrames; index += 1) {
      const before = performance.now();
      await detector.detect(frameAt(index), SYNTHETIC_FRAME);
      latencies.push(performance.now() - before);
    }
    const elapsedMs = performance.now() - started;
    const evaluation = await measureAccuracy(detector);
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      backend: 'cpu',
      source: 'synthetic-frames',
      frame: SYNTHETIC_FRAME,
      frames: settings.measuredFrames,
      threads: detector.info.threads,
      fps: round((settings.measuredFrames * 1000) / elapsedMs),
      latencyMs: {
        p50: round(percentile(sorted, 0.5)),
        p95: round(percentile(sorted, 0.95)),
        mean: round(latencies.reduce((sum, value) => sum + value, 0) / latencies.length),
      },
      accuracy: evaluation?.accuracy ?? null,
      accuracyNote: accuracyNote(evaluation),
      evalSet: evaluation
        ? { evaluated: evaluation.evaluated, correct: evaluation.correct, skipped: evaluation.skipped }
        : null,
      measuredAt: new Date().toISOString(),
    };
  } finally {
    detector.dispose();
  }
}

function accuracyNote(evaluation: EvalSetAccuracy | null): string {
  if (!evaluation) return 'not measured: the version has no eval set (FPS and latency only)';
  if (evaluation.accuracy === null) {
    return `not measured: none of the eval set's images could be evaluated (${evaluation.skipped.length} skipped)`;
  }
  return (
    `${evaluation.correct} of ${evaluation.evaluated} eval-set images detected with the labelled expression` +
    (evaluation.skipped.length > 0 ? `; ${evaluation.skipped.length} image(s) skipped` : '')
  );
}

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: readonly number[], quantile: number): number {
  const rank = Math.max(1, Math.ceil(quantile * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
