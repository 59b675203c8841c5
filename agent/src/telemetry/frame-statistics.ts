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

/**
 * Counts processed and dropped frames and inference latencies over one telemetry window. Latency samples are
 * bounded (`maxSamples`, kept by reservoir sampling) so a very fast synthetic detector cannot grow memory.
 */
export class FrameStatistics {
  private windowStart: number;
  private processed = 0;
  private dropped = 0;
  private latencies: number[] = [];
  private seen = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxSamples = 4096,
  ) {
    this.windowStart = now();
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
    const now = this.now();
    const windowMs = Math.max(1, now - this.windowStart);
    const sorted = this.latencies.sort((a, b) => a - b);
    const round = (value: number) => Math.round(value * 1000) / 1000;
    const window: FrameWindow = {
      windowStart: this.windowStart,
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
    this.windowStart = now;
    this.processed = 0;
    this.dropped = 0;
    this.latencies = [];
    this.seen = 0;
    return window;
  }
}
