import { Link, useLocation } from 'wouter';
import { useRollouts } from '../../api/rollouts';
import { ActionButton } from '../../components/ActionButton';
import { QueryState } from '../../components/QueryState';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDateTime } from '../../lib/format';
import { countByGroup } from '../../lib/rollout-progress';
import { rolloutTone } from './rollout-state';
import { TargetCounts } from './TargetCounts';

/** Every rollout, newest first, with its devices by state. */
export function RolloutsPage() {
  const rollouts = useRollouts();
  const [, navigate] = useLocation();
  return (
    <>
      <div className="page-head">
        <h1>Rollouts</h1>
        <ActionButton className="primary" onClick={() => navigate('/rollouts/new')} data-testid="new-rollout">
          New rollout
        </ActionButton>
      </div>
      <QueryState isPending={rollouts.isPending} error={rollouts.error} what="rollouts">
        {rollouts.data?.items.length === 0 ? (
          <p className="muted">No rollouts yet.</p>
        ) : (
          <div className="table-scroll card">
            <table className="simple" data-testid="rollout-list">
              <thead>
                <tr>
                  <th>rollout</th>
                  <th>model</th>
                  <th>selector</th>
                  <th>state</th>
                  <th className="num">phase</th>
                  <th>devices</th>
                  <th>created</th>
                </tr>
              </thead>
              <tbody>
                {rollouts.data?.items.map((rollout) => (
                  <tr key={rollout.id}>
                    <td>
                      <Link href={`/rollouts/${encodeURIComponent(rollout.id)}`}>{rollout.name}</Link>
                    </td>
                    <td>
                      {rollout.model.modelId}@{rollout.model.version}
                    </td>
                    <td>
                      {rollout.selector === '' ? (
                        <span className="muted">every device</span>
                      ) : (
                        <code>{rollout.selector}</code>
                      )}
                    </td>
                    <td>
                      <StatusBadge tone={rolloutTone(rollout.state)}>{rollout.state}</StatusBadge>
                    </td>
                    <td className="num">
                      {rollout.currentPhase}/{rollout.phases}
                    </td>
                    <td className="counts-cell">
                      <TargetCounts counts={countByGroup(rollout.devices)} />
                    </td>
                    <td>
                      {formatDateTime(rollout.createdAt)}{' '}
                      <span className="muted small">by {rollout.createdBy}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </>
  );
}
