import { type JobStatusDetails } from '@emofleet/protocol';
import { describeMetCriterion, metAbortCriterion, outcomesOf } from './abort-criteria';
import { reportedMeasurementProblem } from './device-gate';
import { ENGINE_ACTOR, RolloutDraft, type RolloutStep } from './rollout-draft';
import { type RolloutSnapshot, type SnapshotPhase, type SnapshotTarget } from './rollout-snapshot';
import { tagsMatch } from './selector-match';
import { soakFailure } from './soak-verdict';

/** Device states in which the agent's own crash-loop rollback of the install fails the device. */
const CRASH_REPORTABLE = new Set(['installing', 'soaking', 'healthy']);

/** How the agent's reasons for a crash-loop rollback start (docs/protocol.md, `lastRollback`). */
const CRASH_LOOP_REASON = /^crash loop\b/;

/** Rollout states in which phases advance, devices start and abort criteria apply. */
const IN_PROGRESS = new Set(['running', 'awaiting-approval', 'paused']);

/**
 * One step of the rollout engine: everything that follows from the current state and what the devices
 * reported. Pure (the caller reads the snapshot under the rollout's row lock and writes the result in the same
 * transaction), so running it twice on the same data changes nothing the second time.
 *
 * 1. Each device: job results (install → soak, or failure), soak checks (crash loop, telemetry), time-outs,
 *    rollback results; pending devices that left the selector or the fleet are skipped.
 * 2. Abort: the abort criteria, and the current phase's success threshold once it cannot be met any more.
 * 3. Progress (running only): start devices of the current phase (online ones, in order, within the limit of
 *    concurrent installs); when the phase is done, check its success rate and move to the next phase (at once,
 *    or after approval), or complete. A completed rollout still starts devices that come back online.
 */
export function stepRollout(snapshot: RolloutSnapshot, now: Date): RolloutStep {
  const draft = new RolloutDraft(snapshot, now, ENGINE_ACTOR);
  for (const target of draft.targets) observeTarget(draft, target);
  if (IN_PROGRESS.has(draft.rollout.state)) checkAbort(draft);
  if (draft.rollout.state === 'running') progress(draft);
  if (draft.rollout.state === 'completed') startDevices(draft, draft.phases.length - 1);
  return draft.step();
}

function observeTarget(draft: RolloutDraft, target: SnapshotTarget): void {
  if (target.crashReport !== null && CRASH_REPORTABLE.has(target.state)) {
    draft.failTarget(target, 'crash-loop', `the agent rolled back on its own: ${target.crashReport.reason}`, {
      restoredModel: target.crashReport.restoredModel,
    });
    return;
  }
  switch (target.state) {
    case 'pending': {
      if (target.device === null || !target.device.inService)
        draft.skipTarget(target, 'the device is no longer in service');
      else if (!tagsMatch(draft.rollout.selector, target.device.tags))
        draft.skipTarget(target, 'the device no longer matches the selector');
      return;
    }
    case 'installing':
      observeInstall(draft, target);
      return;
    case 'soaking':
      observeSoak(draft, target);
      return;
    case 'rolling-back':
      observeRollback(draft, target);
      return;
    default:
      return;
  }
}

function observeInstall(draft: RolloutDraft, target: SnapshotTarget): void {
  if (target.jobId === null) {
    if (target.actionError !== null)
      draft.failTarget(target, 'install', `the install could not be started: ${target.actionError}`);
    return;
  }
  const details: JobStatusDetails = target.jobDetails ?? {};
  switch (target.jobStatus) {
    case 'SUCCEEDED':
      switched(draft, target, details);
      return;
    case 'FAILED':
    case 'REJECTED': {
      const reason = `${target.jobStatus.toLowerCase()}${details.step ? ` at ${details.step}` : ''}: ${details.reason ?? 'no reason given'}`;
      if (details.step === 'ROLLED_BACK' && CRASH_LOOP_REASON.test(details.reason ?? '')) {
        draft.failTarget(target, 'crash-loop', reason);
      } else if (details.step === 'HEALTH_CHECK' || details.step === 'ROLLED_BACK') {
        draft.failTarget(target, 'health-gate', reason, measuredDetails(details));
      } else if (!retryInstall(draft, target, reason)) {
        draft.failTarget(target, 'install', reason, measuredDetails(details));
      }
      return;
    }
    case 'TIMED_OUT':
      if (!retryInstall(draft, target, 'the install job timed out'))
        draft.failTarget(target, 'timed-out', 'the install job timed out');
      return;
    case 'CANCELED':
      draft.failTarget(
        target,
        'install',
        `the install job was canceled${details.reason ? `: ${details.reason}` : ''}`,
      );
      return;
    default:
      if (target.installDeadline !== null && draft.now >= target.installDeadline) {
        const reason = `no result within the install time-out of ${draft.rollout.installTimeoutSeconds} s`;
        draft.cancelJob(target.jobId, 'install time-out of the rollout');
        if (!retryInstall(draft, target, reason)) draft.failTarget(target, 'timed-out', reason);
      }
  }
}

/**
 * Issues the install again after a failure that may be transient (a download cut off by a restarting control
 * plane, a device that timed out), while the rollout's retries last; a failed health gate is never retried.
 */
function retryInstall(draft: RolloutDraft, target: SnapshotTarget, reason: string): boolean {
  if (target.attempts > draft.rollout.installRetries) return false;
  const attempt = target.attempts + 1;
  draft.updateTarget(target, {
    attempts: attempt,
    jobId: null,
    jobStatus: null,
    jobVersion: null,
    jobDetails: null,
    jobDesiredVersion: null,
    installDeadline: new Date(draft.now.getTime() + draft.rollout.installTimeoutSeconds * 1000),
    actionClaimedAt: null,
    actionError: null,
  });
  draft.noteTarget(
    target,
    `install attempt ${attempt} of ${draft.rollout.installRetries + 1} after: ${reason}`,
  );
  return true;
}

function measuredDetails(details: JobStatusDetails): Record<string, unknown> {
  return {
    ...(details.measuredFps === undefined ? {} : { measuredFps: details.measuredFps }),
    ...(details.measuredAccuracy === undefined ? {} : { measuredAccuracy: details.measuredAccuracy }),
  };
}

/** The device installed, passed its own health check and switched: re-check what it measured, then soak. */
function switched(draft: RolloutDraft, target: SnapshotTarget, details: JobStatusDetails): void {
  const measured = {
    measuredFps: details.measuredFps ?? null,
    measuredAccuracy: details.measuredAccuracy ?? null,
    switchedAt: draft.now,
    sessionSeqAtSwitch: target.device?.sessionSeq ?? null,
  };
  const problem = target.gate === null ? null : reportedMeasurementProblem(target.gate, details);
  if (problem !== null) {
    draft.updateTarget(target, measured);
    draft.failTarget(target, 'health-gate', problem, measuredDetails(details));
    return;
  }
  const soakSeconds = draft.phases[target.phaseIndex ?? 0]?.soakSeconds ?? 0;
  if (soakSeconds === 0) {
    draft.updateTarget(
      target,
      { ...measured, state: 'healthy', finishedAt: draft.now },
      'installed and passed its health check',
      measuredDetails(details),
    );
    return;
  }
  draft.updateTarget(
    target,
    { ...measured, state: 'soaking', soakUntil: new Date(draft.now.getTime() + soakSeconds * 1000) },
    `installed and passed its health check; soaking for ${soakSeconds} s`,
    measuredDetails(details),
  );
}

function observeSoak(draft: RolloutDraft, target: SnapshotTarget): void {
  const device = target.device;
  if (device === null || !device.inService) {
    draft.skipTarget(target, 'the device left service during its soak');
    return;
  }
  const failure = soakFailure({
    model: target.model,
    sessionSeqAtSwitch: target.sessionSeqAtSwitch,
    switchedAt: target.switchedAt ?? draft.now,
    gate: target.gate,
    crashLoopRestarts: draft.rollout.crashLoopRestarts,
    device,
  });
  if (failure !== null) {
    draft.failTarget(target, failure.type, failure.reason);
  } else if (target.soakUntil === null || draft.now >= target.soakUntil) {
    draft.updateTarget(target, { state: 'healthy', finishedAt: draft.now, soakUntil: null }, 'soak passed');
  }
}

function observeRollback(draft: RolloutDraft, target: SnapshotTarget): void {
  if (target.rollbackJobId === null) {
    if (target.actionError !== null) {
      draft.updateTarget(
        target,
        { state: 'rollback-failed', finishedAt: draft.now },
        `the rollback could not be started: ${target.actionError}`,
      );
    }
    return;
  }
  const status = target.rollbackJobStatus;
  if (status === 'SUCCEEDED') {
    draft.updateTarget(
      target,
      { state: 'rolled-back', finishedAt: draft.now },
      'the previous model runs again',
    );
  } else if (
    status === 'FAILED' ||
    status === 'REJECTED' ||
    status === 'TIMED_OUT' ||
    status === 'CANCELED'
  ) {
    draft.updateTarget(
      target,
      { state: 'rollback-failed', finishedAt: draft.now },
      `rollback job ${status.toLowerCase()}: ${target.rollbackJobDetails?.reason ?? 'no reason given'}`,
    );
  }
}

function checkAbort(draft: RolloutDraft): void {
  const met = metAbortCriterion(draft.rollout.abortCriteria, outcomesOf(draft.targets));
  if (met !== null) {
    draft.abort(describeMetCriterion(met));
    return;
  }
  const phase = draft.currentPhase;
  if (phase === undefined || phase.state !== 'running') return;
  const sizes = draft.phaseSizes();
  const size = (sizes[phase.index] ?? 0) - (phase.index === 0 ? 0 : (sizes[phase.index - 1] ?? 0));
  const failed = draft.targets.filter((t) => t.phaseIndex === phase.index && t.failureType !== null).length;
  const allowed = Math.floor((size * (100 - phase.successThresholdPercent)) / 100 + 1e-9);
  if (failed > allowed) {
    draft.abort(
      `phase ${phase.index + 1} (${phase.name}): ${failed} of ${size} devices failed; its success threshold of ` +
        `${phase.successThresholdPercent}% allows ${allowed}`,
    );
  }
}

function progress(draft: RolloutDraft): void {
  for (let guard = 0; guard <= draft.phases.length; guard += 1) {
    const phase = draft.currentPhase;
    if (phase === undefined) return;
    if (phase.state === 'pending') draft.setPhaseState(phase, 'running', null, { startedAt: draft.now });
    if (phase.state !== 'running') return;
    startDevices(draft, phase.index);
    if (!phaseDone(draft, phase)) return;
    const decided = draft.targets.filter(
      (t) => t.phaseIndex === phase.index && (t.state === 'healthy' || t.failureType !== null),
    );
    const healthy = decided.filter((t) => t.state === 'healthy').length;
    const rate = decided.length === 0 ? 100 : (healthy / decided.length) * 100;
    if (rate < phase.successThresholdPercent) {
      draft.abort(
        `phase ${phase.index + 1} (${phase.name}) ended with ${healthy} of ${decided.length} devices healthy, ` +
          `below its success threshold of ${phase.successThresholdPercent}%`,
      );
      return;
    }
    draft.setPhaseState(
      phase,
      'succeeded',
      null,
      { completedAt: draft.now },
      { healthy, executed: decided.length },
    );
    const next = draft.phases[phase.index + 1];
    if (next === undefined) {
      draft.setRolloutState('completed', null, { finishedAt: draft.now });
      return;
    }
    draft.patchRollout({ currentPhase: next.index });
    if (next.approval === 'manual') {
      const reason = `phase ${next.index + 1} (${next.name}) waits for an operator's approval`;
      draft.setPhaseState(next, 'awaiting-approval', reason);
      draft.setRolloutState('awaiting-approval', reason);
      return;
    }
    draft.setPhaseState(next, 'running', null, { startedAt: draft.now });
  }
}

/**
 * Starts online pending devices, in order, up to the phase's cumulative size and the free install slots. An
 * offline device keeps its place in the order and is started when it comes back (in whatever phase then).
 */
function startDevices(draft: RolloutDraft, phaseIndex: number): void {
  const quota = (draft.phaseSizes()[phaseIndex] ?? 0) - draft.startedCount();
  const slots =
    draft.rollout.maxConcurrentInstalls - draft.targets.filter((t) => t.state === 'installing').length;
  const count = Math.min(quota, slots);
  if (count <= 0) return;
  const candidates = draft.targets
    .filter((t) => t.state === 'pending' && t.device?.online === true)
    .slice(0, count);
  const deadline = new Date(draft.now.getTime() + draft.rollout.installTimeoutSeconds * 1000);
  for (const target of candidates) {
    draft.updateTarget(
      target,
      {
        state: 'installing',
        phaseIndex,
        attempts: 1,
        startedAt: draft.now,
        installDeadline: deadline,
        actionClaimedAt: null,
        actionError: null,
      },
      `started in phase ${phaseIndex + 1}`,
      { model: target.model },
    );
  }
}

/**
 * A phase is done when none of its devices is still installing or soaking and either its cumulative size is
 * reached, or no device is left to start, or the only devices left are offline and the phase ran at least one.
 */
function phaseDone(draft: RolloutDraft, phase: SnapshotPhase): boolean {
  const phaseTargets = draft.targets.filter((t) => t.phaseIndex === phase.index);
  if (phaseTargets.some((t) => t.state === 'installing' || t.state === 'soaking')) return false;
  if (draft.startedCount() >= (draft.phaseSizes()[phase.index] ?? 0)) return true;
  const pending = draft.targets.filter((t) => t.state === 'pending');
  if (pending.length === 0) return true;
  if (pending.some((t) => t.device?.online === true)) return false;
  return phaseTargets.length > 0;
}
