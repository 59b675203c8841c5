import { Link } from 'wouter';
import { isFinished, useRollouts } from '../../api/rollouts';
import { QueryState } from '../../components/QueryState';
import { StatusBadge } from '../../components/StatusBadge';
import { countByGroup } from '../../lib/rollout-progress';
import { rolloutTone } from './rollout-state';
import { TargetCounts } from './TargetCounts';

/** Rollouts under way (running, waiting for approval, paused), for the fleet overview. */
export function ActiveRollouts() {
  const rollouts = useRollouts();
  const active = (rollouts.data?.items ?? []).filter((rollout) => !isFinished(rollout));
  return (
    <section className="card" aria-labelledby="active-rollouts-title">
      <h2 id="active-rollouts-title">Active rollouts</h2>
      <QueryState isPending={rollouts.isPending} error={rollouts.error} what="rollouts">
        {active.length === 0 ? (
          <p className="muted" data-testid="active-rollouts-none">
            None under way. <Link href="/rollouts">All rollouts</Link>
          </p>
        ) : (
          <ul className="job-list" data-testid="active-rollouts">
            {active.map((rollout) => (
              <li key={rollout.id}>
                <div className="row spread">
                  <Link href={`/rollouts/${encodeURIComponent(rollout.id)}`}>{rollout.name}</Link>
                  <span className="muted small">
                    {rollout.model.modelId}@{rollout.model.version} · phase {rollout.currentPhase}/
                    {rollout.phases}{' '}
                    <StatusBadge tone={rolloutTone(rollout.state)}>{rollout.state}</StatusBadge>
                  </span>
                </div>
                <TargetCounts counts={countByGroup(rollout.devices)} />
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </section>
  );
}
