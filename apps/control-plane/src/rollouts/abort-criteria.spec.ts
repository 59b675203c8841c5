import { type FailureType } from '../database/schema';
import { describeMetCriterion, metAbortCriterion, outcomesOf } from './abort-criteria';

const targets = (healthy: number, failures: Partial<Record<FailureType, number>>, pending = 0) => [
  ...Array.from({ length: healthy }, () => ({ state: 'healthy', failureType: null })),
  ...Object.entries(failures).flatMap(([type, count]) =>
    Array.from({ length: count }, () => ({ state: 'rolled-back', failureType: type as FailureType })),
  ),
  ...Array.from({ length: pending }, () => ({ state: 'pending', failureType: null })),
];

describe('abort criteria', () => {
  it('counts executed devices (healthy or failed) and failures by type', () => {
    expect(outcomesOf(targets(3, { 'health-gate': 1, 'timed-out': 2 }, 4))).toEqual({
      executed: 6,
      failures: { 'health-gate': 1, install: 0, 'timed-out': 2, 'crash-loop': 0 },
    });
  });

  it('waits for the minimum of executed devices, then compares the failure percentage', () => {
    const criterion = { failureType: 'health-gate' as const, thresholdPercent: 20, minExecuted: 5 };
    expect(metAbortCriterion([criterion], outcomesOf(targets(2, { 'health-gate': 2 })))).toBeNull();
    const met = metAbortCriterion([criterion], outcomesOf(targets(4, { 'health-gate': 1 })));
    expect(met).toMatchObject({ failed: 1, executed: 5, percent: 20 });
    expect(describeMetCriterion(met!)).toContain('1 health-gate failures among 5 devices executed');
    expect(metAbortCriterion([criterion], outcomesOf(targets(5, { 'health-gate': 1 })))).toBeNull();
  });

  it('counts only the named type, or every type for any', () => {
    const outcomes = outcomesOf(targets(6, { install: 2, 'crash-loop': 2 }));
    expect(
      metAbortCriterion([{ failureType: 'timed-out', thresholdPercent: 10, minExecuted: 1 }], outcomes),
    ).toBeNull();
    expect(
      metAbortCriterion([{ failureType: 'any', thresholdPercent: 40, minExecuted: 1 }], outcomes)?.failed,
    ).toBe(4);
  });
});
