import { cumulativePhaseSizes, orderDevices, planPhases } from './phase-plan';

describe('orderDevices', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `dev-${String(i).padStart(2, '0')}`);

  it('puts the canaries first, in the given order, and ignores canaries that are not targets', () => {
    const order = orderDevices(ids, ['dev-07', 'ghost', 'dev-03', 'dev-07'], 'seed');
    expect(order.slice(0, 2)).toEqual(['dev-07', 'dev-03']);
    expect([...order].sort()).toEqual(ids);
  });

  it('is the same for the same seed and input order, and differs for another seed', () => {
    const a = orderDevices(ids, [], 'model-v2');
    expect(orderDevices([...ids].reverse(), [], 'model-v2')).toEqual(a);
    expect(orderDevices(ids, [], 'model-v3')).not.toEqual(a);
    expect(a).not.toEqual(ids);
  });
});

describe('cumulativePhaseSizes', () => {
  it('takes counts as given and rounds percentages up; the last phase covers everything', () => {
    const phases = [
      { count: 1, percent: null },
      { count: null, percent: 10 },
      { count: null, percent: 50 },
      { count: null, percent: 100 },
    ];
    expect(cumulativePhaseSizes(phases, 10)).toEqual([1, 1, 5, 10]);
    expect(cumulativePhaseSizes(phases, 95)).toEqual([1, 10, 48, 95]);
  });

  it('never shrinks from one phase to the next and never exceeds the targets', () => {
    const phases = [
      { count: 5, percent: null },
      { count: null, percent: 10 },
      { count: 50, percent: null },
      { count: null, percent: 100 },
    ];
    expect(cumulativePhaseSizes(phases, 20)).toEqual([5, 5, 20, 20]);
    expect(cumulativePhaseSizes(phases, 0)).toEqual([0, 0, 0, 0]);
  });
});

describe('planPhases', () => {
  it('fills phases with online devices in order and defers offline ones', () => {
    const devices = ['a', 'b', 'c', 'd', 'e'].map((deviceId) => ({ deviceId, online: deviceId !== 'a' }));
    const plan = planPhases(devices, [
      { count: 1, percent: null },
      { count: null, percent: 60 },
      { count: null, percent: 100 },
    ]);
    expect(plan.phases).toEqual([
      { index: 0, cumulative: 1, deviceIds: ['b'] },
      { index: 1, cumulative: 3, deviceIds: ['c', 'd'] },
      { index: 2, cumulative: 5, deviceIds: ['e'] },
    ]);
    expect(plan.deferred).toEqual(['a']);
  });
});
