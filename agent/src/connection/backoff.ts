export interface BackoffPolicy {
  /** Delay before reconnect attempt number `attempt` (0 = the first retry after a drop). */
  delayForAttempt(attempt: number): number;
}

export interface FullJitterBackoffOptions {
  readonly initialDelayMs: number;
  /** Cap of the exponential ceiling; no delay is ever longer. */
  readonly maxDelayMs: number;
  /** Uniform random number in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

/**
 * Exponential backoff with full jitter: the delay is uniform in [0, min(max, initial * 2^attempt)). Spreading
 * every retry over the whole window keeps a fleet that lost its broker from reconnecting in lock-step when the
 * broker returns (the thundering herd).
 */
export class FullJitterBackoff implements BackoffPolicy {
  private readonly random: () => number;

  constructor(private readonly options: FullJitterBackoffOptions) {
    if (!(options.initialDelayMs > 0) || !(options.maxDelayMs >= options.initialDelayMs)) {
      throw new RangeError(
        `Backoff needs 0 < initialDelayMs <= maxDelayMs, got ${options.initialDelayMs} and ${options.maxDelayMs}`,
      );
    }
    this.random = options.random ?? Math.random;
  }

  /** The upper bound of the jitter window for `attempt`. */
  ceilingForAttempt(attempt: number): number {
    return Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** Math.max(0, attempt));
  }

  delayForAttempt(attempt: number): number {
    return Math.floor(this.random() * this.ceilingForAttempt(attempt));
  }
}
