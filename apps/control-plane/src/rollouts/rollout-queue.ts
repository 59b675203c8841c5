/** The rollout engine's BullMQ queue (processed in the api role, next to the device-jobs layer it drives). */
export enum RolloutQueue {
  Engine = 'rollouts',
}

export enum RolloutJobName {
  /** One step of one rollout (deduplicated per rollout: at most one running and one waiting). */
  Advance = 'advance',
  /** Repeatable: re-reads stale job statuses and steps every live rollout (soak timers, time-outs, restarts). */
  Tick = 'tick',
}

export interface AdvanceJobData {
  rolloutId: string;
}

/** How often the tick runs: the resolution of soak timers and install time-outs. */
export const ROLLOUT_TICK_EVERY_MS = 2000;
/** A recorded unfinished job status older than this is read again by the tick. */
export const STALE_OBSERVATION_MS = 10_000;
/** Job statuses one tick reads at most. */
export const STALE_OBSERVATION_BATCH = 200;

/** The deduplication id of a rollout's advance jobs. */
export const advanceDeduplicationId = (rolloutId: string): string => `advance-${rolloutId}`;
