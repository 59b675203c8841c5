import { soakFailure, type SoakObservation } from './soak-verdict';

const switchedAt = new Date('2026-01-01T00:00:00Z');
const observation = (device: Partial<SoakObservation['device']>): SoakObservation => ({
  model: { modelId: 'fer', version: '2' },
  sessionSeqAtSwitch: 100,
  switchedAt,
  gate: { minFps: 5, minAccuracy: 0.8, fpsBasis: '', accuracyBasis: '' },
  crashLoopRestarts: 3,
  device: { sessionSeq: 100, currentModel: { modelId: 'fer', version: '2' }, telemetry: null, ...device },
});

describe('soakFailure', () => {
  it('passes a device that keeps running the new model', () => {
    expect(soakFailure(observation({ sessionSeq: 101 }))).toBeNull();
  });

  it('calls repeated new sessions a crash loop', () => {
    expect(soakFailure(observation({ sessionSeq: 103 }))).toEqual({
      type: 'crash-loop',
      reason: expect.stringContaining('3 new sessions') as string,
    });
  });

  it('calls a restart on the previous model a crash loop (the agent rolled back on probation)', () => {
    const failure = soakFailure(
      observation({ sessionSeq: 101, currentModel: { modelId: 'fer', version: '1' } }),
    );
    expect(failure?.type).toBe('crash-loop');
    expect(failure?.reason).toContain('fer@1 instead of fer@2');
    // The same model mismatch without a restart is a birth not seen yet, not a failure.
    expect(soakFailure(observation({ currentModel: { modelId: 'fer', version: '1' } }))).toBeNull();
  });

  it('fails an accuracy under the floor reported in telemetry for the new model after the switch', () => {
    const later = new Date(switchedAt.getTime() + 5000);
    expect(soakFailure(observation({ telemetry: { modelId: 'fer', accuracy: 0.7, at: later } }))?.type).toBe(
      'health-gate',
    );
    expect(
      soakFailure(observation({ telemetry: { modelId: 'fer', accuracy: 0.7, at: switchedAt } })),
    ).toBeNull();
    expect(soakFailure(observation({ telemetry: { modelId: 'old', accuracy: 0.7, at: later } }))).toBeNull();
    expect(soakFailure(observation({ telemetry: { modelId: 'fer', accuracy: 0.85, at: later } }))).toBeNull();
  });
});
