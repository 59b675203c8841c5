import {
  type FailureType,
  type PhaseState,
  type RolloutEventScope,
  type RolloutState,
  type TargetState,
} from '../database/schema';
import { cumulativePhaseSizes } from './phase-plan';
import { type RolloutSnapshot, type SnapshotPhase, type SnapshotTarget } from './rollout-snapshot';

/** The columns of a target a step may change. */
export interface TargetPatch {
  state?: TargetState;
  phaseIndex?: number;
  attempts?: number;
  /** Cleared (with the observed status) when an install is issued again. */
  jobId?: null;
  jobStatus?: null;
  jobVersion?: null;
  jobDetails?: null;
  jobDesiredVersion?: null;
  startedAt?: Date;
  finishedAt?: Date | null;
  installDeadline?: Date | null;
  measuredFps?: number | null;
  measuredAccuracy?: number | null;
  sessionSeqAtSwitch?: number | null;
  switchedAt?: Date;
  soakUntil?: Date | null;
  failureType?: FailureType;
  failureReason?: string;
  /** Cleared when a new action (start, rollback) is due, so no stale claim or error blocks it. */
  actionClaimedAt?: null;
  actionError?: null;
}

export interface PhasePatch {
  state: PhaseState;
  startedAt?: Date;
  completedAt?: Date;
  approvedBy?: string;
}

export interface RolloutPatch {
  state?: RolloutState;
  stateReason?: string | null;
  resumeState?: RolloutState | null;
  currentPhase?: number;
  acceptsNewDevices?: boolean;
  finishedAt?: Date;
}

export interface StepEvent {
  scope: RolloutEventScope;
  phaseIndex: number | null;
  deviceId: string | null;
  fromState: string | null;
  toState: string;
  reason: string | null;
  details: Record<string, unknown> | null;
  actor: string;
}

/** What one step (of the engine or an operator) changes; written in the transaction that read the snapshot. */
export interface RolloutStep {
  rollout: RolloutPatch;
  phases: Map<number, PhasePatch>;
  targets: Map<string, TargetPatch>;
  events: StepEvent[];
  /** Apply jobs to cancel (installs that ran out of time). */
  cancelJobs: Array<{ jobId: string; reason: string }>;
}

/** The actor of the engine's own transitions (operator actions carry `token:<name>`). */
export const ENGINE_ACTOR = 'rollout-engine';

const STARTED_STATES: ReadonlySet<TargetState> = new Set(['installing', 'soaking', 'healthy']);

/**
 * A working copy of a rollout snapshot: transitions change the copy and record patches and events, so a step
 * reads its own changes (a device that just failed counts toward the abort criteria in the same step).
 */
export class RolloutDraft {
  readonly rollout: RolloutSnapshot['rollout'];
  readonly phases: SnapshotPhase[];
  readonly targets: SnapshotTarget[];
  private readonly result: RolloutStep = {
    rollout: {},
    phases: new Map(),
    targets: new Map(),
    events: [],
    cancelJobs: [],
  };

  constructor(
    snapshot: RolloutSnapshot,
    readonly now: Date,
    readonly actor: string,
  ) {
    this.rollout = { ...snapshot.rollout };
    this.phases = snapshot.phases.map((phase) => ({ ...phase })).sort((a, b) => a.index - b.index);
    this.targets = snapshot.targets.map((target) => ({ ...target })).sort((a, b) => a.position - b.position);
  }

  step(): RolloutStep {
    return this.result;
  }

  get currentPhase(): SnapshotPhase | undefined {
    return this.phases[this.rollout.currentPhase];
  }

  setRolloutState(state: RolloutState, reason: string | null, patch: RolloutPatch = {}): void {
    const from = this.rollout.state;
    Object.assign(this.rollout, { state, stateReason: reason }, patch);
    Object.assign(this.result.rollout, { state, stateReason: reason }, patch);
    if (from !== state) this.event('rollout', null, null, from, state, reason);
  }

  patchRollout(patch: RolloutPatch): void {
    Object.assign(this.rollout, patch);
    Object.assign(this.result.rollout, patch);
  }

  setPhaseState(
    phase: SnapshotPhase,
    state: PhaseState,
    reason: string | null,
    patch: Omit<PhasePatch, 'state'> = {},
    details: Record<string, unknown> | null = null,
  ): void {
    const from = phase.state;
    phase.state = state;
    this.result.phases.set(phase.index, { ...this.result.phases.get(phase.index), ...patch, state });
    if (from !== state) this.event('phase', phase.index, null, from, state, reason, details);
  }

  updateTarget(
    target: SnapshotTarget,
    patch: TargetPatch,
    reason: string | null = null,
    details: Record<string, unknown> | null = null,
  ): void {
    const from = target.state;
    Object.assign(target, patch);
    this.result.targets.set(target.deviceId, { ...this.result.targets.get(target.deviceId), ...patch });
    if (patch.state !== undefined && patch.state !== from) {
      this.event('device', target.phaseIndex, target.deviceId, from, patch.state, reason, details);
    }
  }

  /** An event about a device that keeps its state (an install issued again). */
  noteTarget(target: SnapshotTarget, reason: string, details: Record<string, unknown> | null = null): void {
    this.event('device', target.phaseIndex, target.deviceId, target.state, target.state, reason, details);
  }

  cancelJob(jobId: string, reason: string): void {
    this.result.cancelJobs.push({ jobId, reason });
  }

  /** Cumulative started-device counts per phase, over the targets that can still be part of the rollout. */
  phaseSizes(): number[] {
    const eligible = this.targets.filter((t) => !(t.state === 'skipped' && t.phaseIndex === null)).length;
    return cumulativePhaseSizes(this.phases, eligible);
  }

  /** Targets ever started (they hold a phase). */
  startedCount(): number {
    return this.targets.filter((target) => target.phaseIndex !== null).length;
  }

  /**
   * Marks a device failed; one whose apply job exists (or that switched) then goes back to the model it ran
   * before (a device that failed its own health check never switched, but its desired state must name its
   * model again).
   */
  failTarget(
    target: SnapshotTarget,
    type: FailureType,
    reason: string,
    details: Record<string, unknown> = {},
  ): void {
    this.updateTarget(
      target,
      { state: 'failed', failureType: type, failureReason: reason, finishedAt: this.now, soakUntil: null },
      reason,
      { failureType: type, ...details },
    );
    if (target.previous !== null && (target.jobId !== null || target.switchedAt !== null)) {
      this.rollBack(target, 'restoring the model the device ran before');
    }
  }

  rollBack(target: SnapshotTarget, reason: string): void {
    this.updateTarget(
      target,
      { state: 'rolling-back', actionClaimedAt: null, actionError: null, finishedAt: null, soakUntil: null },
      reason,
      target.previous === null ? null : { previous: target.previous.model },
    );
  }

  skipTarget(target: SnapshotTarget, reason: string): void {
    this.updateTarget(target, { state: 'skipped', finishedAt: this.now }, reason);
  }

  /**
   * Ends the rollout and sends every device it switched (or may have switched) back to its previous model;
   * devices not started are never touched (skipped).
   */
  abort(reason: string): void {
    this.setRolloutState('aborted', reason, {
      resumeState: null,
      acceptsNewDevices: false,
      finishedAt: this.now,
    });
    for (const phase of this.phases) {
      if (phase.state === 'running' || phase.state === 'awaiting-approval')
        this.setPhaseState(phase, 'failed', reason, { completedAt: this.now });
      else if (phase.state === 'pending') this.setPhaseState(phase, 'skipped', reason);
    }
    for (const target of this.targets) {
      if (target.state === 'pending') {
        this.skipTarget(target, 'the rollout was aborted before this device started');
      } else if (STARTED_STATES.has(target.state)) {
        if (target.previous === null)
          this.skipTarget(target, 'the rollout was aborted before this device started');
        else this.rollBack(target, 'the rollout was aborted: restoring the previous model');
      }
    }
  }

  private event(
    scope: RolloutEventScope,
    phaseIndex: number | null,
    deviceId: string | null,
    fromState: string | null,
    toState: string,
    reason: string | null,
    details: Record<string, unknown> | null = null,
  ): void {
    this.result.events.push({
      scope,
      phaseIndex,
      deviceId,
      fromState,
      toState,
      reason,
      details,
      actor: this.actor,
    });
  }
}
