/** Runs `step` sequentially for at least `seconds` and `minIterations`, after `warmup` untimed runs. */
export async function timeSequential(
  step: () => Promise<unknown>,
  seconds: number,
  minIterations = 5,
  warmup = 2,
): Promise<{ fps: number; p50Ms: number; p99Ms: number; iterations: number }> {
  for (let i = 0; i < warmup; i += 1) await step();
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - start) / 1e9;
  while (samples.length < minIterations || elapsed() < seconds) {
    const before = process.hrtime.bigint();
    await step();
    samples.push(Number(process.hrtime.bigint() - before) / 1e6);
  }
  return summarise(samples, elapsed());
}

export function summarise(
  samplesMs: number[],
  totalSeconds: number,
): { fps: number; p50Ms: number; p99Ms: number; iterations: number } {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))] ?? 0;
  return { fps: sorted.length / totalSeconds, p50Ms: at(0.5), p99Ms: at(0.99), iterations: sorted.length };
}

export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
