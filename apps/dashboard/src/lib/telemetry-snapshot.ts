/** The figures the dashboard shows from a device's latest telemetry window (`lastTelemetry`, see protocol). */
export interface TelemetrySnapshot {
  fps: number | null;
  latencyP95Ms: number | null;
  accuracy: number | null;
  /** The hottest thermal zone. */
  maxTemperatureC: number | null;
  cpuPercent: number | null;
  modelId: string | null;
}

const EMPTY: TelemetrySnapshot = {
  fps: null,
  latencyP95Ms: null,
  accuracy: null,
  maxTemperatureC: null,
  cpuPercent: null,
  modelId: null,
};

const numberOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/**
 * Reads the telemetry window the API returns as an open record (its schema lives in libs/protocol). Fields
 * that are missing or of another type read as null instead of breaking the table.
 */
export function readTelemetrySnapshot(telemetry: Record<string, unknown> | null): TelemetrySnapshot {
  if (telemetry === null) return EMPTY;
  const latency = telemetry.latencyMs;
  const temperatures = telemetry.temperaturesC;
  const zoneValues =
    typeof temperatures === 'object' && temperatures !== null
      ? Object.values(temperatures)
          .map(numberOrNull)
          .filter((value): value is number => value !== null)
      : [];
  return {
    fps: numberOrNull(telemetry.fps),
    latencyP95Ms:
      typeof latency === 'object' && latency !== null
        ? numberOrNull((latency as { p95?: unknown }).p95)
        : null,
    accuracy: numberOrNull(telemetry.accuracy),
    maxTemperatureC: zoneValues.length === 0 ? null : Math.max(...zoneValues),
    cpuPercent: numberOrNull(telemetry.cpuPercent),
    modelId: typeof telemetry.modelId === 'string' ? telemetry.modelId : null,
  };
}
