import { type JobExecutionStatus, type JobStatusDetails } from '@emofleet/protocol';
import { operatorAction, RolloutTransitionError } from './operator-action';
import { type RolloutStep } from './rollout-draft';
import { type RolloutSnapshot, type SnapshotPhase, type SnapshotTarget } from './rollout-snapshot';
import { stepRollout } from './rollout-step';

const T0 = new Date('2026-03-01T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const MODEL = { modelId: 'fer', version: '2', modelVersionId: 'v2' };

function phase(
  index: number,
  size: { count?: number; percent?: number },
  extra: Partial<SnapshotPhase> = {},
) {
  return {
    index,
    name: `phase ${index + 1}`,
    count: size.count ?? null,
    percent: size.percent ?? null,
    successThresholdPercent: 100,
    soakSeconds: 0,
    approval: 'automatic' as const,
    state: 'pending' as const,
    ...extra,
  };
}

function target(position: number, online = true): SnapshotTarget {
  return {
    deviceId: `d${position}`,
    position,
    state: 'pending',
    phaseIndex: null,
    attempts: 0,
    model: MODEL,
    previous: null,
    gate: null,
    jobId: null,
    jobStatus: null,
    jobDetails: null,
    actionError: null,
    crashReport: null,
    installDeadline: null,
    sessionSeqAtSwitch: null,
    switchedAt: null,
    soakUntil: null,
    failureType: null,
    failureReason: null,
    rollbackJobId: null,
    rollbackJobStatus: null,
    rollbackJobDetails: null,
    device: {
      inService: true,
      online,
      tags: { site: 'lab' },
      sessionSeq: 1000,
      currentModel: { modelId: 'fer', version: '1' },
      telemetry: null,
    },
  };
}

function snapshot(
  devices: number,
  phases: SnapshotPhase[],
  rollout: Partial<RolloutSnapshot['rollout']> = {},
): RolloutSnapshot {
  return {
    rollout: {
      id: 'r1',
      state: 'running',
      stateReason: null,
      resumeState: null,
      currentPhase: 0,
      selector: [{ op: 'equals', key: 'site', value: 'lab' }],
      abortCriteria: [],
      maxConcurrentInstalls: 100,
      installTimeoutSeconds: 600,
      installRetries: 0,
      crashLoopRestarts: 3,
      acceptsNewDevices: false,
      ...rollout,
    },
    phases,
    targets: Array.from({ length: devices }, (_, i) => target(i)),
  };
}

/** What the repository does with a step: merge its patches into the stored rows. */
function apply(state: RolloutSnapshot, step: RolloutStep): RolloutSnapshot {
  return {
    rollout: { ...state.rollout, ...step.rollout },
    phases: state.phases.map((p) => ({ ...p, ...(step.phases.get(p.index) ?? {}) })),
    targets: state.targets.map((t) => ({ ...t, ...(step.targets.get(t.deviceId) ?? {}) })),
  };
}

/** What the executor and the device-jobs layer do: an issued start gets a job and a recorded previous model. */
function issueStarts(state: RolloutSnapshot): RolloutSnapshot {
  return {
    ...state,
    targets: state.targets.map((t) =>
      t.state === 'installing' && t.jobId === null
        ? {
            ...t,
            jobId: `job-${t.deviceId}`,
            jobStatus: 'QUEUED' as const,
            previous: { model: { modelId: 'fer', version: '1' }, modelVersionId: 'v1' },
            gate: { minFps: 10, minAccuracy: null, fpsBasis: 'absolute floor 10', accuracyBasis: null },
          }
        : t.state === 'rolling-back' && t.rollbackJobId === null
          ? {
              ...t,
              rollbackJobId: `rollback-${t.deviceId}`,
              rollbackJobStatus: 'QUEUED' as const,
            }
          : t,
    ),
  };
}

function report(
  state: RolloutSnapshot,
  deviceId: string,
  status: JobExecutionStatus,
  details: JobStatusDetails = {},
): RolloutSnapshot {
  return {
    ...state,
    targets: state.targets.map((t) =>
      t.deviceId === deviceId ? { ...t, jobStatus: status, jobDetails: details } : t,
    ),
  };
}

function reportRollback(
  state: RolloutSnapshot,
  deviceId: string,
  status: JobExecutionStatus,
): RolloutSnapshot {
  return {
    ...state,
    targets: state.targets.map((t) => (t.deviceId === deviceId ? { ...t, rollbackJobStatus: status } : t)),
  };
}

const states = (state: RolloutSnapshot) => state.targets.map((t) => t.state);
const installing = (state: RolloutSnapshot) =>
  state.targets.filter((t) => t.state === 'installing').map((t) => t.deviceId);

/** Steps, issues starts and lets every installing device succeed with `fps`, until nothing changes. */
function runToRest(state: RolloutSnapshot, now: Date, fps = 20): RolloutSnapshot {
  let current = state;
  for (let round = 0; round < 50; round += 1) {
    const step = stepRollout(current, now);
    current = issueStarts(apply(current, step));
    const running = installing(current).filter(
      (id) => current.targets.find((t) => t.deviceId === id)?.jobStatus === 'QUEUED',
    );
    for (const id of running)
      current = report(current, id, 'SUCCEEDED', { step: 'RUNNING', measuredFps: fps });
    if (step.events.length === 0 && running.length === 0) return current;
  }
  throw new Error('the rollout did not come to rest');
}

const STAGES = [phase(0, { count: 1 }), phase(1, { percent: 50 }), phase(2, { percent: 100 })];

describe('stepRollout', () => {
  it('starts only the canary first', () => {
    const step = stepRollout(snapshot(10, STAGES), T0);
    const next = apply(snapshot(10, STAGES), step);
    expect(installing(next)).toEqual(['d0']);
    expect(next.phases[0]?.state).toBe('running');
    expect(step.events.map((e) => `${e.scope}:${e.toState}`)).toEqual(['phase:running', 'device:installing']);
  });

  it('aborts when the canary fails its health gate, rolls the canary back and touches no other device', () => {
    let state = issueStarts(apply(snapshot(10, STAGES), stepRollout(snapshot(10, STAGES), T0)));
    state = report(state, 'd0', 'FAILED', {
      step: 'ROLLED_BACK',
      reason: 'health check failed: measured 4 FPS over 30 frames, below the floor of 10',
      measuredFps: 4,
    });
    const step = stepRollout(state, at(5));
    state = apply(state, step);
    expect(state.rollout.state).toBe('aborted');
    expect(state.rollout.stateReason).toContain('phase 1 (phase 1): 1 of 1 devices failed');
    expect(state.targets[0]).toMatchObject({ state: 'rolling-back', failureType: 'health-gate' });
    expect(states(state).slice(1)).toEqual(Array(9).fill('skipped'));
    expect(state.phases.map((p) => p.state)).toEqual(['failed', 'skipped', 'skipped']);
    state = reportRollback(issueStarts(state), 'd0', 'SUCCEEDED');
    state = apply(state, stepRollout(state, at(6)));
    expect(state.targets[0]?.state).toBe('rolled-back');
    expect(state.targets.filter((t) => t.jobId !== null).map((t) => t.deviceId)).toEqual(['d0']);
  });

  it('re-checks the reported FPS against the floor it sent (a device that did not apply the gate)', () => {
    let state = issueStarts(apply(snapshot(3, STAGES), stepRollout(snapshot(3, STAGES), T0)));
    state = report(state, 'd0', 'SUCCEEDED', { step: 'RUNNING', measuredFps: 3 });
    state = apply(state, stepRollout(state, at(1)));
    expect(state.targets[0]).toMatchObject({
      state: 'rolling-back',
      failureType: 'health-gate',
      measuredFps: 3,
    });
    expect(state.rollout.state).toBe('aborted');
  });

  it('goes phase by phase to 100%, never more installs at once than allowed', () => {
    let state = snapshot(10, STAGES, { maxConcurrentInstalls: 2 });
    let maxInstalling = 0;
    const startedPerPhase: number[][] = [];
    for (let round = 0; round < 40 && state.rollout.state !== 'completed'; round += 1) {
      state = issueStarts(apply(state, stepRollout(state, at(round))));
      maxInstalling = Math.max(maxInstalling, installing(state).length);
      startedPerPhase.push(
        state.phases.map((p) => state.targets.filter((t) => t.phaseIndex === p.index).length),
      );
      for (const id of installing(state)) state = report(state, id, 'SUCCEEDED', { measuredFps: 20 });
    }
    expect(state.rollout.state).toBe('completed');
    expect(states(state)).toEqual(Array(10).fill('healthy'));
    expect(maxInstalling).toBe(2);
    expect(state.targets.map((t) => t.phaseIndex)).toEqual([0, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    // Phase 2 only started once the canary was healthy.
    expect(startedPerPhase[0]).toEqual([1, 0, 0]);
    expect(state.phases.map((p) => p.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('keeps a device soaking until its soak time passed', () => {
    const phases = [phase(0, { count: 1 }, { soakSeconds: 60 }), phase(1, { percent: 100 })];
    let state = issueStarts(apply(snapshot(3, phases), stepRollout(snapshot(3, phases), T0)));
    state = report(state, 'd0', 'SUCCEEDED', { measuredFps: 20 });
    state = apply(state, stepRollout(state, at(1)));
    expect(state.targets[0]?.state).toBe('soaking');
    state = apply(state, stepRollout(state, at(30)));
    expect(state.targets[0]?.state).toBe('soaking');
    expect(installing(state)).toEqual([]);
    state = apply(state, stepRollout(state, at(61)));
    expect(state.targets[0]?.state).toBe('healthy');
    expect(installing(state)).toEqual(['d1', 'd2']);
  });

  it('fails a crash-looping device during its soak and rolls it back', () => {
    const phases = [phase(0, { count: 1 }, { soakSeconds: 60 }), phase(1, { percent: 100 })];
    let state = issueStarts(apply(snapshot(3, phases), stepRollout(snapshot(3, phases), T0)));
    state = apply(
      report(state, 'd0', 'SUCCEEDED', { measuredFps: 20 }),
      stepRollout(report(state, 'd0', 'SUCCEEDED', { measuredFps: 20 }), at(1)),
    );
    state = {
      ...state,
      targets: state.targets.map((t) =>
        t.deviceId === 'd0' && t.device
          ? {
              ...t,
              device: { ...t.device, sessionSeq: 1001, currentModel: { modelId: 'fer', version: '1' } },
            }
          : t,
      ),
    };
    state = apply(state, stepRollout(state, at(10)));
    expect(state.targets[0]).toMatchObject({ state: 'rolling-back', failureType: 'crash-loop' });
    expect(state.rollout.state).toBe('aborted');
  });

  it("fails a device on the agent's own crash-loop report, also after its soak, and rolls it back", () => {
    const phases = [phase(0, { count: 1 }), phase(1, { percent: 100 }, { approval: 'manual' })];
    let state = runToRest(snapshot(3, phases), T0);
    expect(state.targets[0]?.state).toBe('healthy');
    const report = {
      at: at(30).getTime(),
      model: { modelId: 'fer', version: '2' },
      desiredVersion: 7,
      restoredModel: { modelId: 'fer', version: '1' },
      reason:
        'crash loop: the agent started 4 times with fer 2 before it ran 600 s in one go; rolled back to fer 1',
    };
    state = { ...state, targets: state.targets.map((t, i) => (i === 0 ? { ...t, crashReport: report } : t)) };
    state = apply(state, stepRollout(state, at(31)));
    expect(state.targets[0]).toMatchObject({ state: 'rolling-back', failureType: 'crash-loop' });
    expect(state.targets[0]?.failureReason).toContain('the agent rolled back on its own: crash loop');
  });

  it('calls a failed install the agent ended with a crash-loop rollback a crash loop, not a health gate', () => {
    let state = issueStarts(apply(snapshot(2, STAGES), stepRollout(snapshot(2, STAGES), T0)));
    state = report(state, 'd0', 'FAILED', {
      step: 'ROLLED_BACK',
      reason: 'crash loop: the agent died 3 times while loading or health-checking fer 2; kept fer 1',
    });
    state = apply(state, stepRollout(state, at(1)));
    expect(state.targets[0]).toMatchObject({ state: 'rolling-back', failureType: 'crash-loop' });
  });

  it('defers an offline device and starts it when it comes back, also after the rollout completed', () => {
    let state = snapshot(4, STAGES);
    state = {
      ...state,
      targets: state.targets.map((t, i) =>
        i === 0 && t.device ? { ...t, device: { ...t.device, online: false } } : t,
      ),
    };
    state = runToRest(state, at(1));
    expect(state.rollout.state).toBe('completed');
    expect(states(state)).toEqual(['pending', 'healthy', 'healthy', 'healthy']);
    expect(state.targets[1]?.phaseIndex).toBe(0);
    state = {
      ...state,
      targets: state.targets.map((t, i) =>
        i === 0 && t.device ? { ...t, device: { ...t.device, online: true } } : t,
      ),
    };
    state = runToRest(state, at(100));
    expect(states(state)).toEqual(['healthy', 'healthy', 'healthy', 'healthy']);
    expect(state.targets[0]?.phaseIndex).toBe(2);
  });

  it('waits in a phase whose every remaining device is offline', () => {
    let state = snapshot(2, STAGES);
    state = {
      ...state,
      targets: state.targets.map((t) => (t.device ? { ...t, device: { ...t.device, online: false } } : t)),
    };
    state = runToRest(state, at(1));
    expect(state.rollout.state).toBe('running');
    expect(state.phases[0]?.state).toBe('running');
  });

  it('waits for approval before a manual phase, and an operator approves it', () => {
    const phases = [phase(0, { count: 1 }), phase(1, { percent: 100 }, { approval: 'manual' })];
    let state = runToRest(snapshot(3, phases), at(1));
    expect(state.rollout.state).toBe('awaiting-approval');
    expect(states(state)).toEqual(['healthy', 'pending', 'pending']);
    state = apply(state, operatorAction(state, 'approve', 'token:ops', at(2)));
    expect(state.phases[1]).toMatchObject({ state: 'running', approvedBy: 'token:ops' });
    state = runToRest(state, at(3));
    expect(state.rollout.state).toBe('completed');
  });

  it('fails an install that gives no result within the time-out and cancels its job', () => {
    let state = issueStarts(apply(snapshot(3, STAGES), stepRollout(snapshot(3, STAGES), T0)));
    expect(stepRollout(state, at(599)).events).toEqual([]);
    const step = stepRollout(state, at(600));
    expect(step.cancelJobs).toEqual([{ jobId: 'job-d0', reason: 'install time-out of the rollout' }]);
    state = apply(state, step);
    expect(state.targets[0]).toMatchObject({ state: 'rolling-back', failureType: 'timed-out' });
  });

  it('issues an install again after a transient failure, while the retries last', () => {
    const phases = [phase(0, { percent: 100 })];
    let state = snapshot(1, phases, { installRetries: 1 });
    state = issueStarts(apply(state, stepRollout(state, T0)));
    state = report(state, 'd0', 'FAILED', { step: 'DOWNLOADING', reason: 'connect ECONNREFUSED' });
    const retry = stepRollout(state, at(1));
    state = apply(state, retry);
    expect(state.targets[0]).toMatchObject({
      state: 'installing',
      attempts: 2,
      jobId: null,
      failureType: null,
    });
    expect(retry.events.map((e) => e.reason)).toEqual([
      'install attempt 2 of 2 after: failed at DOWNLOADING: connect ECONNREFUSED',
    ]);
    state = issueStarts(state);
    state = report(state, 'd0', 'FAILED', { step: 'DOWNLOADING', reason: 'connect ECONNREFUSED' });
    state = apply(state, stepRollout(state, at(2)));
    expect(state.targets[0]).toMatchObject({ state: 'rolling-back', failureType: 'install' });
  });

  it('never retries a failed health gate, and retries a time-out after canceling its job', () => {
    const phases = [phase(0, { percent: 100 }, { successThresholdPercent: 0 })];
    let state = snapshot(2, phases, { installRetries: 3 });
    state = issueStarts(apply(state, stepRollout(state, T0)));
    state = report(state, 'd0', 'FAILED', { step: 'ROLLED_BACK', reason: 'slow', measuredFps: 2 });
    const step = stepRollout(state, at(600));
    state = apply(state, step);
    expect(state.targets[0]).toMatchObject({
      state: 'rolling-back',
      failureType: 'health-gate',
      attempts: 1,
    });
    expect(state.targets[1]).toMatchObject({ state: 'installing', attempts: 2, jobId: null });
    expect(step.cancelJobs).toEqual([{ jobId: 'job-d1', reason: 'install time-out of the rollout' }]);
  });

  it('aborts on an abort criterion over every executed device', () => {
    const phases = [phase(0, { percent: 100 }, { successThresholdPercent: 0 })];
    let state = snapshot(10, phases, {
      abortCriteria: [{ failureType: 'install', thresholdPercent: 30, minExecuted: 5 }],
    });
    state = issueStarts(apply(state, stepRollout(state, T0)));
    for (const id of ['d0', 'd1'])
      state = report(state, id, 'FAILED', { step: 'DOWNLOADING', reason: 'HTTP 500' });
    for (const id of ['d2', 'd3']) state = report(state, id, 'SUCCEEDED', { measuredFps: 20 });
    state = apply(state, stepRollout(state, at(1)));
    expect(state.rollout.state).toBe('running');
    state = report(state, 'd4', 'SUCCEEDED', { measuredFps: 20 });
    state = report(state, 'd5', 'FAILED', { step: 'DOWNLOADING', reason: 'HTTP 500' });
    state = apply(state, stepRollout(state, at(2)));
    expect(state.rollout.state).toBe('aborted');
    expect(state.rollout.stateReason).toContain('3 install failures among 6 devices executed');
    // Every device that had started goes back; none was left on the new model.
    expect(state.targets.filter((t) => t.state === 'rolling-back')).toHaveLength(10);
  });

  it('tolerates failures a phase threshold allows', () => {
    const phases = [phase(0, { percent: 100 }, { successThresholdPercent: 80 })];
    let state = issueStarts(apply(snapshot(10, phases), stepRollout(snapshot(10, phases), T0)));
    state = report(state, 'd3', 'FAILED', { step: 'HEALTH_CHECK', reason: 'slow' });
    state = report(state, 'd7', 'FAILED', { step: 'HEALTH_CHECK', reason: 'slow' });
    for (const id of installing(state).filter((id) => !['d3', 'd7'].includes(id)))
      state = report(state, id, 'SUCCEEDED', { measuredFps: 20 });
    state = apply(state, stepRollout(state, at(1)));
    expect(state.rollout.state).toBe('completed');
    expect(state.targets.filter((t) => t.state === 'rolling-back').map((t) => t.deviceId)).toEqual([
      'd3',
      'd7',
    ]);
  });

  it('changes nothing when stepped again on the same data', () => {
    const state = issueStarts(apply(snapshot(5, STAGES), stepRollout(snapshot(5, STAGES), T0)));
    const again = stepRollout(state, at(1));
    expect(again.events).toEqual([]);
    expect(again.targets.size).toBe(0);
  });

  it('skips pending devices that left the selector or the fleet', () => {
    let state = snapshot(3, [phase(0, { count: 1 }), phase(1, { percent: 100 })]);
    state = {
      ...state,
      targets: state.targets.map((t) =>
        t.device === null
          ? t
          : t.deviceId === 'd1'
            ? { ...t, device: { ...t.device, tags: { site: 'home' } } }
            : t.deviceId === 'd2'
              ? { ...t, device: { ...t.device, inService: false } }
              : t,
      ),
    };
    state = runToRest(state, T0);
    expect(states(state)).toEqual(['healthy', 'skipped', 'skipped']);
    expect(state.rollout.state).toBe('completed');
  });
});

describe('operatorAction', () => {
  it('pauses: nothing new starts; resume returns to where it was', () => {
    let state = runToRest(
      snapshot(4, [phase(0, { count: 1 }), phase(1, { percent: 100 }, { approval: 'manual' })]),
      T0,
    );
    state = apply(state, operatorAction(state, 'pause', 'token:ops', at(1), 'maintenance'));
    expect(state.rollout).toMatchObject({ state: 'paused', resumeState: 'awaiting-approval' });
    expect(state.rollout.stateReason).toBe('paused by token:ops: maintenance');
    expect(() => operatorAction(state, 'approve', 'token:ops', at(2))).toThrow(RolloutTransitionError);
    state = apply(state, operatorAction(state, 'resume', 'token:ops', at(3)));
    expect(state.rollout.state).toBe('awaiting-approval');
  });

  it('does not start devices while paused, and resumes starting them', () => {
    let state = snapshot(3, [phase(0, { percent: 100 })], { maxConcurrentInstalls: 1 });
    state = issueStarts(apply(state, stepRollout(state, T0)));
    state = apply(state, operatorAction(state, 'pause', 'token:ops', at(1)));
    state = runToRest(state, at(2));
    expect(states(state)).toEqual(['healthy', 'pending', 'pending']);
    state = apply(state, operatorAction(state, 'resume', 'token:ops', at(3)));
    state = runToRest(state, at(4));
    expect(state.rollout.state).toBe('completed');
  });

  it('cancels: pending devices are skipped, switched ones keep the new model', () => {
    let state = runToRest(
      snapshot(4, [phase(0, { count: 2 }), phase(1, { percent: 100 }, { approval: 'manual' })]),
      T0,
    );
    state = apply(state, operatorAction(state, 'cancel', 'token:ops', at(1)));
    expect(state.rollout.state).toBe('canceled');
    expect(states(state)).toEqual(['healthy', 'healthy', 'skipped', 'skipped']);
    expect(() => operatorAction(state, 'resume', 'token:ops', at(2))).toThrow(/canceled/);
  });

  it('aborts a completed rollout: every switched device goes back', () => {
    let state = runToRest(snapshot(3, [phase(0, { percent: 100 })]), T0);
    expect(state.rollout.state).toBe('completed');
    state = apply(state, operatorAction(state, 'abort', 'token:ops', at(1)));
    expect(state.rollout).toMatchObject({ state: 'aborted', stateReason: 'aborted by token:ops' });
    expect(states(state)).toEqual(['rolling-back', 'rolling-back', 'rolling-back']);
  });
});
