import { type AbortCriterion, FAILURE_TYPES, type FailureType } from '../database/schema';

/** Devices that finished their part of a rollout (healthy or failed), and the failures by type. */
export interface RolloutOutcomes {
  executed: number;
  failures: Record<FailureType, number>;
}

export interface OutcomeSource {
  state: string;
  failureType: FailureType | null;
}

export function outcomesOf(targets: readonly OutcomeSource[]): RolloutOutcomes {
  const failures = Object.fromEntries(FAILURE_TYPES.map((type) => [type, 0])) as Record<FailureType, number>;
  let executed = 0;
  for (const target of targets) {
    if (target.failureType !== null) {
      failures[target.failureType] += 1;
      executed += 1;
    } else if (target.state === 'healthy') {
      executed += 1;
    }
  }
  return { executed, failures };
}

export interface MetAbortCriterion {
  criterion: AbortCriterion;
  failed: number;
  executed: number;
  percent: number;
}

/**
 * The first criterion that is met: at least `minExecuted` devices executed, and failures of `failureType`
 * (all types for `any`) are at least `thresholdPercent` of them.
 */
export function metAbortCriterion(
  criteria: readonly AbortCriterion[],
  outcomes: RolloutOutcomes,
): MetAbortCriterion | null {
  for (const criterion of criteria) {
    if (outcomes.executed === 0 || outcomes.executed < criterion.minExecuted) continue;
    const failed =
      criterion.failureType === 'any'
        ? FAILURE_TYPES.reduce((sum, type) => sum + outcomes.failures[type], 0)
        : outcomes.failures[criterion.failureType];
    const percent = (failed / outcomes.executed) * 100;
    if (percent >= criterion.thresholdPercent) {
      return { criterion, failed, executed: outcomes.executed, percent };
    }
  }
  return null;
}

export function describeMetCriterion(met: MetAbortCriterion): string {
  const type = met.criterion.failureType === 'any' ? 'failures' : `${met.criterion.failureType} failures`;
  return (
    `abort criterion met: ${met.failed} ${type} among ${met.executed} devices executed ` +
    `(${Math.round(met.percent * 10) / 10}% ≥ ${met.criterion.thresholdPercent}%, minimum ${met.criterion.minExecuted} executed)`
  );
}
