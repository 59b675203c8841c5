import { performance } from 'node:perf_hooks';
import { type LatencyPercentiles } from '@emofleet/protocol';

export interface FrameWindow {
  readonly windowStart: number;
  readonly windowMs: number;
  readonly framesProcessed: number;
  readonly framesDropped: number;
  readonly fps: number;
  readonly latencyMs: LatencyPercentiles | null;
}

/** Nearest-rank percentile of ascending `sorted` (non-empty). */
export function percentile(sorted: readonly number[], fraction: number): number {
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

/** The two clocks a window needs: wall clock for its timestamp, monotonic clock for its length. */
export interface FrameClock {
  /** Milliseconds since the epoch (may jump: NTP steps, a clock set by hand). */
  readonly wall: () => number;
  /** Milliseconds from an arbitrary origin that only moves forward at a steady rate. */
  readonly monotonic: () => number;
}

export const systemFrameClock: FrameClock = { wall: Date.now, monotonic: () => performance.now() };

/**
 * Counts processed and dropped frames and inference latencies over one telemetry window. Latency samples are
 * bounded (`maxSamples`, kept by reservoir sampling) so a very fast synthetic detector cannot grow memory.
 * A window is timestamped by the wall clock at its start and measured by the monotonic clock, so a wall-clock
 * step (back or forward) neither shrinks nor stretches it (its FPS stays right and the message valid).
 */
export class FrameStatistics {
  private windowStartWall: number;
  private windowStartMonotonic: number;
  private processed = 0;
  private dropped = 0;
  private latencies: number[] = [];
  private seen = 0;

  constructor(
    private readonly clock: FrameClock = systemFrameClock,
    private readonly maxSamples = 4096,
  ) {
    this.windowStartWall = clock.wall();
    this.windowStartMonotonic = clock.monotonic();
  }

  recordInference(latencyMs: number): void {
    this.processed += 1;
    this.seen += 1;
    if (this.latencies.length < this.maxSamples) {
      this.latencies.push(latencyMs);
    } else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < this.maxSamples) this.latencies[slot] = latencyMs;
    }
  }

  recordDropped(frames = 1): void {
    this.dropped += frames;
  }

  /** The window since the last call (or creation), then starts a new one. */
  takeWindow(): FrameWindow {
    const monotonicNow = this.clock.monotonic();
    const windowMs = Math.max(1, Math.round(monotonicNow - this.windowStartMonotonic));
    const sorted = this.latencies.sort((a, b) => a - b);
    const round = (value: number) => Math.round(value * 1000) / 1000;
    const window: FrameWindow = {
      windowStart: this.windowStartWall,
      windowMs,
      framesProcessed: this.processed,
      framesDropped: this.dropped,
      fps: round((this.processed * 1000) / windowMs),
      latencyMs:
        sorted.length === 0
          ? null
          : {
              p50: round(percentile(sorted, 0.5)),
              p95: round(percentile(sorted, 0.95)),
              p99: round(percentile(sorted, 0.99)),
            },
    };
    this.windowStartWall = this.clock.wall();
    this.windowStartMonotonic = monotonicNow;
    this.processed = 0;
    this.dropped = 0;
    this.latencies = [];
    this.seen = 0;
    return window;
  }
}
