import { type HealthCheckSpec } from '@emofleet/protocol';
import { type DetectorAdapter } from '../detector';
import { type RawFrame } from '../sources';
import { evaluateEvalSet, type EvalSetOptions } from './eval-set';

export interface HealthCheckResult {
  readonly passed: boolean;
  readonly reason?: string;
  readonly measuredFps: number;
  /** Null when the bundle has no eval set. */
  readonly measuredAccuracy: number | null;
  /** mAP@0.5 on the eval set; null when the bundle has no eval set. */
  readonly measuredMap50: number | null;
}

export type HealthCheckOptions = EvalSetOptions;

/**
 * The rollout's health gate for a freshly loaded model: `warmupFrames` unmeasured frames, then FPS over
 * `measureFrames` (>= minFps), then accuracy (>= minAccuracy) and mAP@0.5 (reported, no floor) on the bundle's
 * eval set. A gate with an accuracy floor fails when the bundle has no eval set: a floor that cannot be checked
 * is not passed.
 */
export async function runHealthCheck(
  detector: DetectorAdapter,
  bundleDirectory: string,
  spec: HealthCheckSpec,
  options: HealthCheckOptions,
): Promise<HealthCheckResult> {
  const data = Buffer.alloc(options.frameWidth * options.frameHeight * 3, 96);
  const frame = (index: number): RawFrame => ({
    index,
    timestamp: Date.now(),
    width: options.frameWidth,
    height: options.frameHeight,
    format: 'rgb24',
    data,
  });
  for (let i = 0; i < spec.warmupFrames; i += 1) await detector.detect(frame(i));
  const started = process.hrtime.bigint();
  for (let i = 0; i < spec.measureFrames; i += 1) await detector.detect(frame(spec.warmupFrames + i));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const measuredFps = Math.min(
    10_000,
    Math.round((spec.measureFrames / Math.max(seconds, 1e-6)) * 100) / 100,
  );
  const evaluation = await evaluateEvalSet(detector, bundleDirectory, options);
  const measuredAccuracy = evaluation?.accuracy ?? null;
  const measuredMap50 = evaluation?.map50 ?? null;
  if (measuredFps < spec.minFps) {
    return {
      passed: false,
      reason: `measured ${measuredFps} FPS over ${spec.measureFrames} frames, below the floor of ${spec.minFps}`,
      measuredFps,
      measuredAccuracy,
      measuredMap50,
    };
  }
  if (spec.minAccuracy !== null) {
    if (measuredAccuracy === null) {
      return {
        passed: false,
        reason: `the rollout requires accuracy >= ${spec.minAccuracy} but the bundle has no eval set`,
        measuredFps,
        measuredAccuracy,
        measuredMap50,
      };
    }
    if (measuredAccuracy < spec.minAccuracy) {
      return {
        passed: false,
        reason: `accuracy ${measuredAccuracy} on the eval set is below the floor of ${spec.minAccuracy}`,
        measuredFps,
        measuredAccuracy,
        measuredMap50,
      };
    }
  }
  return { passed: true, measuredFps, measuredAccuracy, measuredMap50 };
}
