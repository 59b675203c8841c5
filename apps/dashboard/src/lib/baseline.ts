/** The figures of a version's benchmark baseline (stored as an open record; see the pipeline's benchmark). */
export interface BaselineFigures {
  fps: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  accuracy: number | null;
  note: string | null;
  backend: string | null;
}

const numberOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

export function readBaseline(baseline: Record<string, unknown> | null): BaselineFigures | null {
  if (baseline === null) return null;
  const latency =
    typeof baseline.latencyMs === 'object' && baseline.latencyMs !== null
      ? (baseline.latencyMs as Record<string, unknown>)
      : {};
  return {
    fps: numberOrNull(baseline.fps),
    latencyP50Ms: numberOrNull(latency.p50),
    latencyP95Ms: numberOrNull(latency.p95),
    accuracy: numberOrNull(baseline.accuracy),
    note: typeof baseline.accuracyNote === 'string' ? baseline.accuracyNote : null,
    backend: typeof baseline.backend === 'string' ? baseline.backend : null,
  };
}
