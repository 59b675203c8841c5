/** Device states of a rollout, grouped the way the live view shows them. */
export const TARGET_GROUPS = [
  'pending',
  'installing',
  'healthy',
  'failed',
  'rolled back',
  'skipped',
] as const;
export type TargetGroup = (typeof TARGET_GROUPS)[number];

const GROUP_OF: Record<string, TargetGroup> = {
  pending: 'pending',
  installing: 'installing',
  soaking: 'installing',
  healthy: 'healthy',
  failed: 'failed',
  'rollback-failed': 'failed',
  'rolling-back': 'rolled back',
  'rolled-back': 'rolled back',
  skipped: 'skipped',
};

/** The display group of a target state (unknown future states count as pending). */
export function targetGroup(state: string): TargetGroup {
  return GROUP_OF[state] ?? 'pending';
}

/** Counts by group from counts by state (the rollout list's `devices`) or from a list of states. */
export function countByGroup(
  states: Readonly<Record<string, number>> | readonly string[],
): Record<TargetGroup, number> {
  const counts = Object.fromEntries(TARGET_GROUPS.map((group) => [group, 0])) as Record<TargetGroup, number>;
  const entries: Array<[string, number]> = isStateList(states)
    ? states.map((state): [string, number] => [state, 1])
    : Object.entries(states);
  for (const [state, count] of entries) counts[targetGroup(state)] += count;
  return counts;
}

function isStateList(
  states: Readonly<Record<string, number>> | readonly string[],
): states is readonly string[] {
  return Array.isArray(states);
}

export function totalOf(counts: Readonly<Record<TargetGroup, number>>): number {
  return TARGET_GROUPS.reduce((sum, group) => sum + counts[group], 0);
}
