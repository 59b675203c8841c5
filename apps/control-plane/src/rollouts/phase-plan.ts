import { createHash } from 'node:crypto';

/** How far a phase takes the rollout: a device count or a percentage of the targets, both cumulative. */
export interface PhaseSize {
  count: number | null;
  percent: number | null;
}

/**
 * The rollout order: the canary devices first (as given, when they are targets), then every other target by
 * the SHA-256 of `<seed>:<device id>`. The hash spreads the early phases over the fleet instead of always
 * taking the alphabetically first devices, and the same seed and devices always give the same order.
 */
export function orderDevices(
  deviceIds: readonly string[],
  canaries: readonly string[],
  seed: string,
): string[] {
  const targets = new Set(deviceIds);
  const first = [...new Set(canaries)].filter((id) => targets.has(id));
  const pinned = new Set(first);
  const rest = deviceIds
    .filter((id) => !pinned.has(id))
    .map((id) => ({ id, key: createHash('sha256').update(`${seed}:${id}`).digest('hex') }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : 1))
    .map((entry) => entry.id);
  return [...first, ...rest];
}

/**
 * How many targets have been started once each phase is done, for `total` targets: a count as given, a
 * percentage rounded up (10% of 5 devices is 1), never fewer than the phase before, never more than `total`;
 * the last phase always covers every target.
 */
export function cumulativePhaseSizes(phases: readonly PhaseSize[], total: number): number[] {
  let previous = 0;
  return phases.map((phase, index) => {
    const wanted =
      index === phases.length - 1
        ? total
        : (phase.count ?? Math.ceil(((phase.percent ?? 100) * total) / 100 - 1e-9));
    previous = Math.min(total, Math.max(previous, wanted));
    return previous;
  });
}

export interface PlannedDevice {
  deviceId: string;
  online: boolean;
}

export interface PhasePlan {
  phases: Array<{ index: number; cumulative: number; deviceIds: string[] }>;
  /** Offline devices: they are started when they come back, in whatever phase the rollout is in then. */
  deferred: string[];
}

/**
 * Which device a rollout would start in which phase if it started now: online devices fill the phases in
 * order (an offline device's place goes to the next online one, as the engine does), offline ones are deferred.
 */
export function planPhases(ordered: readonly PlannedDevice[], phases: readonly PhaseSize[]): PhasePlan {
  const sizes = cumulativePhaseSizes(phases, ordered.length);
  const online = ordered.filter((device) => device.online).map((device) => device.deviceId);
  let started = 0;
  return {
    phases: sizes.map((cumulative, index) => {
      const deviceIds = online.slice(started, Math.max(started, cumulative));
      started += deviceIds.length;
      return { index, cumulative, deviceIds };
    }),
    deferred: ordered.filter((device) => !device.online).map((device) => device.deviceId),
  };
}
