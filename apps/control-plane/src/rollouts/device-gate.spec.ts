import { type RolloutGates } from '../database/schema';
import { deviceGate, healthCheckFor, reportedMeasurementProblem } from './device-gate';

const gates = (overrides: Partial<RolloutGates>): RolloutGates => ({
  fps: null,
  accuracy: null,
  warmupFrames: 5,
  measureFrames: 30,
  crashLoopRestarts: 3,
  ...overrides,
});
const noHistory = { previousFps: null, previousAccuracy: null, rolloutModelAccuracy: null };

describe('deviceGate', () => {
  it('takes the stricter of the absolute floor and the percentage of the previous FPS', () => {
    const spec = gates({ fps: { min: 5, minPercentOfPrevious: 90 } });
    const gate = deviceGate(spec, { ...noHistory, previousFps: { value: 11, basis: 'job j1' } });
    expect(gate.minFps).toBe(9.9);
    expect(gate.fpsBasis).toContain('90% of 11 FPS (job j1)');
    expect(gate.fpsBasis).toContain('also absolute floor 5');
    expect(deviceGate(spec, { ...noHistory, previousFps: { value: 3.9, basis: 'telemetry' } }).minFps).toBe(
      5,
    );
  });

  it('falls back to the absolute floor, or to none, when the previous FPS is unknown', () => {
    const withMin = deviceGate(gates({ fps: { min: 4, minPercentOfPrevious: 80 } }), noHistory);
    expect(withMin.minFps).toBe(4);
    expect(withMin.fpsBasis).toContain('not known');
    const without = deviceGate(gates({ fps: { min: null, minPercentOfPrevious: 80 } }), noHistory);
    expect(without.minFps).toBe(0);
    expect(without.fpsBasis).toMatch(/^no FPS floor/);
  });

  it('sets the accuracy floor at baseline minus tolerance, with the paper budget of one point', () => {
    const fixed = deviceGate(gates({ accuracy: { baseline: 0.82, tolerance: 0.01 } }), noHistory);
    expect(fixed.minAccuracy).toBe(0.81);
    const previous = deviceGate(gates({ accuracy: { baseline: 'previous-model', tolerance: 0.01 } }), {
      ...noHistory,
      previousAccuracy: { value: 0.9, basis: 'telemetry' },
      rolloutModelAccuracy: 0.5,
    });
    expect(previous.minAccuracy).toBe(0.89);
    expect(previous.accuracyBasis).toContain("previous model's accuracy 0.9");
  });

  it("uses the rolled-out model's benchmark when the previous accuracy is unknown, else does not gate", () => {
    const spec = gates({ accuracy: { baseline: 'previous-model', tolerance: 0.02 } });
    const fallback = deviceGate(spec, { ...noHistory, rolloutModelAccuracy: 0.75 });
    expect(fallback.minAccuracy).toBe(0.73);
    expect(fallback.accuracyBasis).toContain('benchmark');
    const none = deviceGate(spec, noHistory);
    expect(none.minAccuracy).toBeNull();
    expect(none.accuracyBasis).toContain('not gated');
  });

  it('becomes the desired state health check', () => {
    const spec = gates({ fps: { min: 7, minPercentOfPrevious: null }, measureFrames: 12, warmupFrames: 2 });
    expect(healthCheckFor(spec, deviceGate(spec, noHistory))).toEqual({
      warmupFrames: 2,
      measureFrames: 12,
      minFps: 7,
      minAccuracy: null,
    });
  });
});

describe('reportedMeasurementProblem', () => {
  const gate = { minFps: 10, minAccuracy: 0.8, fpsBasis: 'absolute floor 10', accuracyBasis: 'baseline' };

  it('accepts measurements at or above the floors', () => {
    expect(reportedMeasurementProblem(gate, { measuredFps: 10, measuredAccuracy: 0.8 })).toBeNull();
  });

  it('names the measurement under its floor, or the one missing', () => {
    expect(reportedMeasurementProblem(gate, { measuredFps: 9.5, measuredAccuracy: 0.9 })).toContain(
      'measured 9.5 FPS, below the floor of 10',
    );
    expect(reportedMeasurementProblem(gate, { measuredFps: 12, measuredAccuracy: 0.7 })).toContain(
      'accuracy 0.7',
    );
    expect(reportedMeasurementProblem(gate, { measuredFps: 12 })).toContain('no accuracy');
    expect(reportedMeasurementProblem({ ...gate, minFps: 0, minAccuracy: null }, {})).toBeNull();
  });
});
