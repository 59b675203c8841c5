import { SeededRandom } from '../src';

describe('SeededRandom', () => {
  it('fill produces the same values as repeated uniform calls, within range', () => {
    const filled = new SeededRandom(7).fill(1000, -2, 3);
    const single = new SeededRandom(7);
    const expected = Float32Array.from({ length: 1000 }, () => single.uniform(-2, 3));
    expect(filled).toEqual(expected);
    expect(Math.min(...filled)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...filled)).toBeLessThan(3);
  });

  it('spreads values over the range', () => {
    const values = new SeededRandom(0).fill(10_000, 0, 1);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});
