/** Scrambles a seed into a non-zero xorshift state (xorshift32 is stuck at 0). */
function initialState(seed: number): number {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < 8; i += 1) state = xorshift32(state);
  return state === 0 ? 0x2545f491 : state;
}

/** Marsaglia's xorshift32 step. Shifts and xors only: fast even where `Math.imul` is not (jest's VM). */
function xorshift32(state: number): number {
  let x = state;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/**
 * A small deterministic PRNG (xorshift32): the same seed always gives the same sequence, on every platform,
 * so random weights used by tests and benchmarks are reproducible. Not for cryptography.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = initialState(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = xorshift32(this.state);
    return this.state / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** A Float32Array of `length` values uniform in [low, high) (the same values as `length` calls to `uniform`). */
  fill(length: number, low: number, high: number): Float32Array {
    const values = new Float32Array(length);
    const range = high - low;
    let x = this.state;
    for (let i = 0; i < length; i += 1) {
      // xorshift32 inlined: full-size networks need tens of millions of values.
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      values[i] = low + range * (x / 4294967296);
    }
    this.state = x;
    return values;
  }
}
