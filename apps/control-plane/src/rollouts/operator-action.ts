import { type RolloutState } from '../database/schema';
import { RolloutDraft, type RolloutStep } from './rollout-draft';
import { type RolloutSnapshot } from './rollout-snapshot';

export const OPERATOR_ACTIONS = ['approve', 'pause', 'resume', 'cancel', 'abort'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/** An action the rollout's state does not allow (the API answers 409 with the message). */
export class RolloutTransitionError extends Error {}

/** The states each action applies to. */
const ALLOWED_FROM: Record<OperatorAction, readonly RolloutState[]> = {
  approve: ['awaiting-approval'],
  pause: ['running', 'awaiting-approval'],
  resume: ['paused'],
  cancel: ['running', 'awaiting-approval', 'paused', 'completed'],
  abort: ['running', 'awaiting-approval', 'paused', 'completed'],
};

/**
 * An operator's action on a rollout, as a step to write under the rollout's row lock:
 * - approve: the phase waiting for approval starts;
 * - pause: no further device starts (devices already installing or soaking are still checked, failures still
 *   roll back and can still abort the rollout); resume returns to where it was;
 * - cancel: the rollout ends where it is: devices not started are skipped, devices already switched keep the
 *   new model, installs under way finish and are checked; no new devices join any more;
 * - abort: the rollout ends and every device it switched goes back to its previous model.
 */
export function operatorAction(
  snapshot: RolloutSnapshot,
  action: OperatorAction,
  actor: string,
  now: Date,
  reason?: string,
): RolloutStep {
  const draft = new RolloutDraft(snapshot, now, actor);
  const state = draft.rollout.state;
  if (!ALLOWED_FROM[action].includes(state)) {
    throw new RolloutTransitionError(
      `rollout ${draft.rollout.id} is ${state}; ${action} applies to a rollout that is ${ALLOWED_FROM[action].join(' or ')}`,
    );
  }
  const why = (verb: string) => `${verb} by ${actor}${reason === undefined ? '' : `: ${reason}`}`;
  switch (action) {
    case 'approve': {
      const phase = draft.currentPhase;
      if (phase === undefined || phase.state !== 'awaiting-approval')
        throw new RolloutTransitionError(`rollout ${draft.rollout.id} has no phase waiting for approval`);
      draft.setPhaseState(phase, 'running', why('approved'), { startedAt: now, approvedBy: actor });
      draft.setRolloutState('running', null);
      break;
    }
    case 'pause':
      draft.setRolloutState('paused', why('paused'), { resumeState: state });
      break;
    case 'resume':
      draft.setRolloutState(draft.rollout.resumeState ?? 'running', null, { resumeState: null });
      break;
    case 'cancel': {
      const reasonText = why('canceled');
      draft.setRolloutState('canceled', reasonText, {
        resumeState: null,
        acceptsNewDevices: false,
        finishedAt: now,
      });
      for (const phase of draft.phases) {
        if (phase.state === 'pending' || phase.state === 'awaiting-approval' || phase.state === 'running')
          draft.setPhaseState(phase, 'skipped', reasonText);
      }
      for (const target of draft.targets) {
        if (target.state === 'pending')
          draft.skipTarget(target, 'the rollout was canceled before this device started');
      }
      break;
    }
    case 'abort':
      draft.abort(why('aborted'));
      break;
  }
  return draft.step();
}
