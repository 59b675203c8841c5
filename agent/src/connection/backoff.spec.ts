import { FullJitterBackoff } from './backoff';

describe('FullJitterBackoff', () => {
  it('doubles the jitter ceiling per attempt up to the cap', () => {
    const backoff = new FullJitterBackoff({ initialDelayMs: 100, maxDelayMs: 1000 });
    expect([0, 1, 2, 3, 4, 5, 50, 5000].map((attempt) => backoff.ceilingForAttempt(attempt))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000, 1000,
    ]);
  });

  it('draws the delay uniformly below the ceiling (full jitter)', () => {
    const draws = [0, 0.5, 0.999999];
    const backoff = new FullJitterBackoff({
      initialDelayMs: 100,
      maxDelayMs: 1000,
      random: () => draws.shift() ?? 0,
    });
    expect(backoff.delayForAttempt(3)).toBe(0);
    expect(backoff.delayForAttempt(3)).toBe(400);
    expect(backoff.delayForAttempt(3)).toBe(799);
  });

  it('never exceeds the cap, even for huge attempt counts', () => {
    const backoff = new FullJitterBackoff({ initialDelayMs: 1, maxDelayMs: 60_000, random: () => 0.9999999 });
    expect(backoff.delayForAttempt(10_000)).toBe(59_999);
  });

  it('refuses a cap below the initial delay, or a non-positive initial delay', () => {
    expect(() => new FullJitterBackoff({ initialDelayMs: 100, maxDelayMs: 50 })).toThrow(
      '0 < initialDelayMs <= maxDelayMs',
    );
    expect(() => new FullJitterBackoff({ initialDelayMs: 0, maxDelayMs: 50 })).toThrow(RangeError);
  });
});
