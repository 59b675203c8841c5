/**
 * At most `limit` units of work at once: `tryTake` takes a slot when one is free, `take` waits for one (waiters
 * are served in arrival order), `release` gives one back. `idle` resolves once nothing is running.
 */
export class InFlightLimit {
  private running = 0;
  private peak = 0;
  private readonly waiting: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`in-flight limit must be ≥ 1, got ${limit}`);
  }

  /** Units running now. */
  get size(): number {
    return this.running;
  }

  /** The most units ever running at once. */
  get highWater(): number {
    return this.peak;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  tryTake(): boolean {
    if (this.running >= this.limit || this.waiting.length > 0) return false;
    this.occupy();
    return true;
  }

  /** Resolves with a slot taken for the caller. */
  take(): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    if (this.running === 0) throw new Error('InFlightLimit.release without a slot taken');
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: the count does not change.
    if (next !== undefined) return next();
    this.running -= 1;
    if (this.running === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves once no unit is running (at once when none is). */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private occupy(): void {
    this.running += 1;
    if (this.running > this.peak) this.peak = this.running;
  }
}
