import { type DeviceModelRef, type FailureType, type TargetGate } from '../database/schema';

/** What the control plane knows about a soaking device. */
export interface SoakObservation {
  /** What the device was switched to. */
  model: DeviceModelRef;
  /** Its session number when it switched (null: unknown). */
  sessionSeqAtSwitch: number | null;
  switchedAt: Date;
  gate: TargetGate | null;
  /** New sessions during the soak that make a crash loop. */
  crashLoopRestarts: number;
  device: {
    sessionSeq: number | null;
    /** The running model of its newest birth. */
    currentModel: DeviceModelRef | null;
    telemetry: { modelId: string | null; accuracy: number | null; at: Date } | null;
  };
}

const sameModel = (a: DeviceModelRef | null, b: DeviceModelRef): boolean =>
  a !== null && a.modelId === b.modelId && a.version === b.version;

/**
 * Why a soaking device fails, or null while it is fine:
 * - crash loop: it started `crashLoopRestarts` new sessions since the switch, or it came back from a restart
 *   running another model (the agent rolls back by itself after repeated crashes on probation);
 * - health gate: its telemetry reports, for the new model, an accuracy below the floor.
 */
export function soakFailure(observation: SoakObservation): { type: FailureType; reason: string } | null {
  const { device, model } = observation;
  const restarts =
    device.sessionSeq !== null && observation.sessionSeqAtSwitch !== null
      ? device.sessionSeq - observation.sessionSeqAtSwitch
      : 0;
  if (restarts >= observation.crashLoopRestarts) {
    return {
      type: 'crash-loop',
      reason: `${restarts} new sessions since the switch (crash loop: at most ${observation.crashLoopRestarts - 1} allowed)`,
    };
  }
  if (restarts > 0 && !sameModel(device.currentModel, model)) {
    const running =
      device.currentModel === null
        ? 'no model'
        : `${device.currentModel.modelId}@${device.currentModel.version}`;
    return {
      type: 'crash-loop',
      reason: `the device restarted running ${running} instead of ${model.modelId}@${model.version}`,
    };
  }
  const telemetry = device.telemetry;
  const floor = observation.gate?.minAccuracy ?? null;
  if (
    floor !== null &&
    telemetry !== null &&
    telemetry.at > observation.switchedAt &&
    telemetry.modelId === model.modelId &&
    telemetry.accuracy !== null &&
    telemetry.accuracy < floor
  ) {
    return {
      type: 'health-gate',
      reason: `telemetry reports accuracy ${telemetry.accuracy} during the soak, below the floor of ${floor}`,
    };
  }
  return null;
}
