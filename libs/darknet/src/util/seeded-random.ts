/**
 * A small deterministic PRNG (mulberry32): the same seed always gives the same sequence, on every platform,
 * so random weights used by tests and benchmarks are reproducible.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** A Float32Array of `length` values uniform in [low, high). */
  fill(length: number, low: number, high: number): Float32Array {
    const values = new Float32Array(length);
    for (let i = 0; i < length; i += 1) values[i] = this.uniform(low, high);
    return values;
  }
}
