import { countByGroup, totalOf } from '../../lib/rollout-progress';
import { buildRolloutRequest, DEFAULT_ROLLOUT_FORM } from './rollout-form';

describe('rollout form', () => {
  it('builds the API request: model by name and version, phases by percent or count, gates', () => {
    const built = buildRolloutRequest({
      ...DEFAULT_ROLLOUT_FORM,
      model: 'tiny-expr@3',
      selector: ' site=lab ',
      phases: [
        {
          name: 'canary',
          size: '2',
          unit: 'count',
          soakSeconds: '30',
          successThresholdPercent: '',
          approval: 'automatic',
        },
        {
          name: '',
          size: '100',
          unit: 'percent',
          soakSeconds: '',
          successThresholdPercent: '95',
          approval: 'manual',
        },
      ],
      fpsMin: '3',
      fpsMinPercentOfPrevious: '',
      accuracyTolerance: '0.01',
    });
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.request).toMatchObject({
      name: 'tiny-expr@3 rollout',
      model: { name: 'tiny-expr', version: 3 },
      selector: 'site=lab',
      phases: [
        { name: 'canary', count: 2, soakSeconds: 30, successThresholdPercent: 100, approval: 'automatic' },
        { percent: 100, soakSeconds: 0, successThresholdPercent: 95, approval: 'manual' },
      ],
      gates: { fps: { min: 3 }, accuracy: { baseline: 'previous-model', tolerance: 0.01 } },
      abortCriteria: [{ failureType: 'any', thresholdPercent: 20, minExecuted: 1 }],
      installRetries: 2,
    });
    expect(built.request.phases[1]).not.toHaveProperty('name');
  });

  it('says what cannot be sent', () => {
    expect(buildRolloutRequest(DEFAULT_ROLLOUT_FORM)).toEqual({ ok: false, problem: 'pick a model version' });
    expect(buildRolloutRequest({ ...DEFAULT_ROLLOUT_FORM, model: 'tiny@1', fpsMin: 'lots' })).toEqual({
      ok: false,
      problem: 'minimum FPS: "lots" is not a number',
    });
  });
});

describe('rollout progress', () => {
  it('groups device states as the live view shows them', () => {
    const counts = countByGroup({
      pending: 2,
      installing: 1,
      soaking: 2,
      healthy: 5,
      'rollback-failed': 1,
      'rolled-back': 3,
    });
    expect(counts).toEqual({
      pending: 2,
      installing: 3,
      healthy: 5,
      failed: 1,
      'rolled back': 3,
      skipped: 0,
    });
    expect(totalOf(counts)).toBe(14);
    expect(countByGroup(['healthy', 'failed', 'healthy'])).toMatchObject({ healthy: 2, failed: 1 });
  });
});
