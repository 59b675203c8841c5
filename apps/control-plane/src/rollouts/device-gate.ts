import { type HealthCheckSpec, type JobStatusDetails } from '@emofleet/protocol';
import { type RolloutGates, type TargetGate } from '../database/schema';

/** A number a floor is derived from, and where it came from (shown to operators). */
export interface Measurement {
  value: number;
  basis: string;
}

/** What is known about a device when it starts, for its floors. */
export interface DeviceGateInputs {
  /** FPS of the model the device runs now (its health check, else its telemetry). */
  previousFps: Measurement | null;
  /** Accuracy of the model the device runs now (its telemetry, else the pipeline's benchmark). */
  previousAccuracy: Measurement | null;
  /** Accuracy the pipeline's benchmark measured for the model being rolled out. */
  rolloutModelAccuracy: number | null;
}

/** The protocol's largest FPS floor. */
const MAX_FPS_FLOOR = 10_000;

const round = (value: number, digits: number): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

/**
 * One device's floors: FPS at least the absolute minimum and at least the given percentage of the previous
 * model's FPS on this device (the higher one applies; a percentage without a known previous FPS falls back to
 * the minimum, or to no floor), and accuracy at least baseline − tolerance, the baseline given or the previous
 * model's accuracy (falling back to the rolled-out model's benchmark accuracy when the previous one is unknown).
 */
export function deviceGate(gates: RolloutGates, inputs: DeviceGateInputs): TargetGate {
  const fpsFloors: Array<{ value: number; basis: string }> = [];
  const fpsNotes: string[] = [];
  const absolute = gates.fps?.min ?? null;
  const percent = gates.fps?.minPercentOfPrevious ?? null;
  if (absolute !== null) fpsFloors.push({ value: absolute, basis: `absolute floor ${absolute}` });
  if (percent !== null) {
    if (inputs.previousFps === null) {
      fpsNotes.push(`${percent}% of the previous model's FPS: not known for this device`);
    } else {
      const value = round((inputs.previousFps.value * percent) / 100, 2);
      fpsFloors.push({
        value,
        basis: `${percent}% of ${inputs.previousFps.value} FPS (${inputs.previousFps.basis})`,
      });
    }
  }
  const strictest = fpsFloors.reduce<{ value: number; basis: string } | undefined>(
    (best, floor) => (best === undefined || floor.value > best.value ? floor : best),
    undefined,
  );
  const fpsBasis = [
    strictest === undefined ? 'no FPS floor' : strictest.basis,
    ...fpsFloors.filter((floor) => floor !== strictest).map((floor) => `also ${floor.basis}`),
    ...fpsNotes,
  ].join('; ');
  const { minAccuracy, accuracyBasis } = accuracyFloor(gates, inputs);
  return {
    minFps: Math.min(MAX_FPS_FLOOR, strictest?.value ?? 0),
    minAccuracy,
    fpsBasis,
    accuracyBasis,
  };
}

function accuracyFloor(
  gates: RolloutGates,
  inputs: DeviceGateInputs,
): { minAccuracy: number | null; accuracyBasis: string | null } {
  const accuracy = gates.accuracy;
  if (accuracy === null) return { minAccuracy: null, accuracyBasis: null };
  const floor = (baseline: number) => Math.min(1, Math.max(0, round(baseline - accuracy.tolerance, 6)));
  if (accuracy.baseline !== 'previous-model') {
    return {
      minAccuracy: floor(accuracy.baseline),
      accuracyBasis: `baseline ${accuracy.baseline} − tolerance ${accuracy.tolerance}`,
    };
  }
  if (inputs.previousAccuracy !== null) {
    return {
      minAccuracy: floor(inputs.previousAccuracy.value),
      accuracyBasis: `previous model's accuracy ${inputs.previousAccuracy.value} (${inputs.previousAccuracy.basis}) − tolerance ${accuracy.tolerance}`,
    };
  }
  if (inputs.rolloutModelAccuracy !== null) {
    return {
      minAccuracy: floor(inputs.rolloutModelAccuracy),
      accuracyBasis:
        `the rolled-out model's benchmark accuracy ${inputs.rolloutModelAccuracy} − tolerance ` +
        `${accuracy.tolerance} (no accuracy of the previous model is known for this device)`,
    };
  }
  return {
    minAccuracy: null,
    accuracyBasis: 'not gated: neither the previous nor the rolled-out model has a known accuracy',
  };
}

/** The desired state's `healthCheck`: what the device runs before it switches. */
export function healthCheckFor(gates: RolloutGates, gate: TargetGate): HealthCheckSpec {
  return {
    warmupFrames: gates.warmupFrames,
    measureFrames: gates.measureFrames,
    minFps: gate.minFps,
    minAccuracy: gate.minAccuracy,
  };
}

/**
 * The control plane's own check of what a device reported with SUCCEEDED: the measured FPS and accuracy must
 * meet the floors it was sent (a device running an older agent, or a gate the device did not apply, is caught
 * here). Returns why it fails, or null.
 */
export function reportedMeasurementProblem(gate: TargetGate, details: JobStatusDetails): string | null {
  if (details.measuredFps === undefined) {
    return gate.minFps > 0 ? `the device reported no FPS; the floor is ${gate.minFps}` : null;
  }
  if (details.measuredFps < gate.minFps) {
    return `measured ${details.measuredFps} FPS, below the floor of ${gate.minFps} (${gate.fpsBasis})`;
  }
  if (gate.minAccuracy !== null) {
    if (details.measuredAccuracy === undefined) {
      return `the device reported no accuracy; the floor is ${gate.minAccuracy}`;
    }
    if (details.measuredAccuracy < gate.minAccuracy) {
      return `accuracy ${details.measuredAccuracy} on the eval set, below the floor of ${gate.minAccuracy} (${gate.accuracyBasis ?? ''})`;
    }
  }
  return null;
}
