import { useMemo } from 'react';
import { Link } from 'wouter';
import {
  isFinished,
  type RolloutAction,
  useRollout,
  useRolloutAction,
  useRolloutEvents,
} from '../../api/rollouts';
import type { RolloutDetail, RolloutTarget } from '../../api/types';
import { ActionButton } from '../../components/ActionButton';
import { QueryState } from '../../components/QueryState';
import { StatusBadge, type Tone } from '../../components/StatusBadge';
import { formatDateTime, formatFixed, formatPercent, formatTime } from '../../lib/format';
import { countByGroup, targetGroup } from '../../lib/rollout-progress';
import { phaseTone, rolloutTone } from './rollout-state';
import { TargetCounts } from './TargetCounts';

const GROUP_TONE: Record<string, Tone> = {
  pending: 'neutral',
  installing: 'busy',
  healthy: 'good',
  failed: 'bad',
  'rolled back': 'warn',
  skipped: 'neutral',
};

/** The live view of one rollout: its phases and devices by state, refreshed every 2 s, and its controls. */
export function RolloutPage({ id }: { id: string }) {
  const rollout = useRollout(id);
  const live = rollout.data !== undefined && !isFinished(rollout.data);
  const events = useRolloutEvents(id, live);
  return (
    <QueryState isPending={rollout.isPending} error={rollout.error} what={`rollout ${id}`}>
      {rollout.data && (
        <>
          <div className="page-head">
            <h1>
              <Link href="/rollouts" className="muted">
                Rollouts
              </Link>{' '}
              / {rollout.data.name}{' '}
              <span data-testid="rollout-state">
                <StatusBadge tone={rolloutTone(rollout.data.state)}>{rollout.data.state}</StatusBadge>
              </span>
            </h1>
            <RolloutControls rollout={rollout.data} />
          </div>
          {rollout.data.stateReason !== null && <p className="notice">{rollout.data.stateReason}</p>}
          <div className="grid">
            <RolloutFacts rollout={rollout.data} />
            <section className="card" aria-labelledby="rollout-devices-title">
              <h2 id="rollout-devices-title">All devices</h2>
              <TargetCounts
                counts={countByGroup(rollout.data.targets.map((target) => target.state))}
                testId="rollout-counts"
              />
            </section>
            <Phases rollout={rollout.data} />
            <Targets targets={rollout.data.targets} />
            <section className="card wide" aria-labelledby="transitions-title">
              <h2 id="transitions-title">Transitions</h2>
              <QueryState isPending={events.isPending} error={events.error} what="transitions">
                <ol className="transitions" data-testid="rollout-transitions">
                  {[...(events.data?.items ?? [])]
                    .reverse()
                    .slice(0, 200)
                    .map((event) => (
                      <li key={event.id}>
                        <span className="muted">{formatTime(event.at)}</span> {event.type}
                        {event.phase !== null && ` ${event.phase}`}
                        {event.deviceId !== null && ` ${event.deviceId}`}: {event.from ?? '–'} →{' '}
                        <strong>{event.to}</strong>
                        {event.reason !== null && <span className="muted"> ({event.reason})</span>}{' '}
                        <span className="muted small">by {event.actor}</span>
                      </li>
                    ))}
                </ol>
              </QueryState>
            </section>
          </div>
        </>
      )}
    </QueryState>
  );
}

/** Approve, pause, resume, cancel, abort: each offered only in the states where the API accepts it. */
function RolloutControls({ rollout }: { rollout: RolloutDetail }) {
  const act = useRolloutAction(rollout.id);
  const run = (action: RolloutAction, confirmation?: string) => {
    if (confirmation !== undefined && !window.confirm(confirmation)) return;
    act.mutate({ action });
  };
  const finished = isFinished(rollout);
  return (
    <div className="stack">
      <div className="row" role="group" aria-label="Rollout controls">
        <ActionButton
          disabled={act.isPending || rollout.state !== 'awaiting-approval'}
          onClick={() => run('approve')}
          data-testid="rollout-approve"
        >
          Approve phase
        </ActionButton>
        <ActionButton
          disabled={act.isPending || rollout.state !== 'running'}
          onClick={() => run('pause')}
          data-testid="rollout-pause"
        >
          Pause
        </ActionButton>
        <ActionButton
          disabled={act.isPending || rollout.state !== 'paused'}
          onClick={() => run('resume')}
          data-testid="rollout-resume"
        >
          Resume
        </ActionButton>
        <ActionButton
          disabled={act.isPending || finished}
          onClick={() =>
            run(
              'cancel',
              'Cancel the rollout? Devices not started are skipped; switched ones keep the new model.',
            )
          }
          data-testid="rollout-cancel"
        >
          Cancel
        </ActionButton>
        <ActionButton
          className="danger"
          disabled={act.isPending || finished}
          onClick={() =>
            run('abort', 'Abort the rollout and roll every switched device back to its previous model?')
          }
          data-testid="rollout-abort"
        >
          Abort and roll back
        </ActionButton>
      </div>
      {act.error && (
        <p className="error" role="alert">
          {act.error.message}
        </p>
      )}
    </div>
  );
}

function RolloutFacts({ rollout }: { rollout: RolloutDetail }) {
  const gates = rollout.gates;
  return (
    <section className="card" aria-labelledby="rollout-facts-title">
      <h2 id="rollout-facts-title">Plan</h2>
      <dl className="facts">
        <dt>model</dt>
        <dd>
          <Link href={`/models/${encodeURIComponent(rollout.model.modelId)}/${rollout.model.version}`}>
            {rollout.model.modelId}@{rollout.model.version}
          </Link>
        </dd>
        <dt>targets</dt>
        <dd>{rollout.selector === '' ? 'every device in service' : <code>{rollout.selector}</code>}</dd>
        <dt>FPS gate</dt>
        <dd>
          {gates.fps === null
            ? 'none'
            : [
                gates.fps.min === null ? null : `≥ ${gates.fps.min}`,
                gates.fps.minPercentOfPrevious === null
                  ? null
                  : `≥ ${gates.fps.minPercentOfPrevious} % of previous`,
              ]
                .filter(Boolean)
                .join(' and ')}
        </dd>
        <dt>accuracy gate</dt>
        <dd>
          {gates.accuracy === null
            ? 'none'
            : `${gates.accuracy.baseline === 'previous-model' ? 'previous model' : formatPercent(gates.accuracy.baseline)} − ${formatPercent(gates.accuracy.tolerance)}`}
        </dd>
        <dt>measurement</dt>
        <dd>
          {gates.warmupFrames} warm-up + {gates.measureFrames} measured frames
        </dd>
        <dt>concurrency</dt>
        <dd>
          {rollout.maxConcurrentInstalls} installs at once, {rollout.installTimeoutSeconds} s each at most,{' '}
          {rollout.installRetries} retries
        </dd>
        <dt>abort when</dt>
        <dd>
          {rollout.abortCriteria.length === 0
            ? 'never automatically'
            : rollout.abortCriteria
                .map((criterion) => `${criterion.failureType} ≥ ${criterion.thresholdPercent} %`)
                .join(', ')}
        </dd>
        <dt>created</dt>
        <dd>
          {formatDateTime(rollout.createdAt)} by {rollout.createdBy}
        </dd>
        <dt>finished</dt>
        <dd>{formatDateTime(rollout.finishedAt)}</dd>
      </dl>
    </section>
  );
}

function Phases({ rollout }: { rollout: RolloutDetail }) {
  return (
    <section className="card wide" aria-labelledby="phases-title">
      <h2 id="phases-title">Phases</h2>
      <ol className="phase-list" data-testid="rollout-phases">
        {rollout.phaseDetails.map((phase) => {
          const devices = rollout.targets
            .filter((target) => target.phase === phase.phase)
            .map((target) => target.state);
          return (
            <li
              key={phase.phase}
              data-testid={`rollout-phase-${phase.phase}`}
              className={phase.phase === rollout.currentPhase ? 'current' : undefined}
            >
              <div className="row spread">
                <span>
                  <strong>
                    {phase.phase}. {phase.name}
                  </strong>{' '}
                  <StatusBadge tone={phaseTone(phase.state)}>{phase.state}</StatusBadge>
                </span>
                <span className="muted small">
                  {phase.percent !== null ? `${phase.percent} % of targets` : `${phase.count ?? 0} devices`} ·
                  soak {phase.soakSeconds} s · {phase.successThresholdPercent} % healthy to go on ·{' '}
                  {phase.approval === 'manual' ? 'needs approval' : 'starts automatically'}
                  {phase.approvedBy !== null && ` · approved by ${phase.approvedBy}`}
                </span>
              </div>
              <TargetCounts counts={countByGroup(devices)} />
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function Targets({ targets }: { targets: readonly RolloutTarget[] }) {
  const ordered = useMemo(() => [...targets].sort((a, b) => a.position - b.position), [targets]);
  return (
    <section className="card wide" aria-labelledby="targets-title">
      <h2 id="targets-title">Devices</h2>
      <div className="table-scroll targets-scroll">
        <table className="simple" data-testid="rollout-targets">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>device</th>
              <th className="num">phase</th>
              <th>state</th>
              <th>step</th>
              <th className="num">FPS (gate)</th>
              <th className="num">accuracy (gate)</th>
              <th>from</th>
              <th>failure</th>
              <th>finished</th>
            </tr>
          </thead>
          <tbody>
            {ordered.map((target) => (
              <tr key={target.deviceId} data-state={target.state}>
                <td className="num">{target.position}</td>
                <td>
                  <Link href={`/devices/${encodeURIComponent(target.deviceId)}`}>{target.deviceId}</Link>
                </td>
                <td className="num">{target.phase ?? '–'}</td>
                <td>
                  <StatusBadge tone={GROUP_TONE[targetGroup(target.state)] ?? 'neutral'}>
                    {target.state}
                  </StatusBadge>
                </td>
                <td className="muted">{target.step ?? ''}</td>
                <td className="num">
                  {formatFixed(target.measuredFps)}{' '}
                  {target.gate !== null && (
                    <span className="muted">(≥ {formatFixed(target.gate.minFps)})</span>
                  )}
                </td>
                <td className="num">
                  {formatPercent(target.measuredAccuracy)}{' '}
                  {typeof target.gate?.minAccuracy === 'number' && (
                    <span className="muted">(≥ {formatPercent(target.gate.minAccuracy)})</span>
                  )}
                </td>
                <td>
                  {target.previousModel === null
                    ? 'none'
                    : `${target.previousModel.modelId}@${target.previousModel.version}`}
                </td>
                <td className="error">
                  {target.failure === null ? '' : `${target.failure.type}: ${target.failure.reason}`}
                </td>
                <td>{formatDateTime(target.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
