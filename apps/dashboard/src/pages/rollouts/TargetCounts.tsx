import { TARGET_GROUPS, type TargetGroup, totalOf } from '../../lib/rollout-progress';

const GROUP_CLASS: Record<TargetGroup, string> = {
  pending: 'neutral',
  installing: 'busy',
  healthy: 'good',
  failed: 'bad',
  'rolled back': 'warn',
  skipped: 'neutral',
};

/** A stacked bar of a rollout's (or a phase's) devices by state, with the counts as text. */
export function TargetCounts({
  counts,
  testId,
}: {
  counts: Readonly<Record<TargetGroup, number>>;
  testId?: string;
}) {
  const total = totalOf(counts);
  return (
    <div className="target-counts" data-testid={testId}>
      <div className="stacked" aria-hidden="true">
        {TARGET_GROUPS.map((group) =>
          counts[group] === 0 ? null : (
            <span
              key={group}
              className={`segment ${GROUP_CLASS[group]}`}
              style={{ width: `${(100 * counts[group]) / Math.max(1, total)}%` }}
            />
          ),
        )}
      </div>
      <ul className="legend-totals small">
        {TARGET_GROUPS.map((group) => (
          <li key={group} data-group={group}>
            {group} <strong>{counts[group]}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}
