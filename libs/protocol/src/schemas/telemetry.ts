import { z } from 'zod';
import { deviceIdSchema } from '../identifiers';
import {
  boundedNumber,
  byteCountSchema,
  epochMillisSchema,
  fractionSchema,
  modelIdSchema,
  nonNegativeIntegerSchema,
  protocolVersionSchema,
} from './common';

const millisecondsSchema = boundedNumber(0, 3_600_000);

export const latencyPercentilesSchema = z
  .object({ p50: millisecondsSchema, p95: millisecondsSchema, p99: millisecondsSchema })
  .refine((l) => l.p50 <= l.p95 && l.p95 <= l.p99, {
    message: 'percentiles must satisfy p50 <= p95 <= p99',
  });

export const gpuStatsSchema = z.object({
  loadPercent: boundedNumber(0, 100),
  memoryUsedBytes: byteCountSchema.optional(),
  memoryTotalBytes: byteCountSchema.optional(),
});

/** Thermal zone name (e.g. `CPU-therm`, `thermal_zone0`) → degrees Celsius. */
export const temperaturesSchema = z
  .record(z.string().min(1).max(64), boundedNumber(-100, 200))
  .refine((zones) => Object.keys(zones).length <= 32, 'at most 32 thermal zones');

/** Statistics of one telemetry window (a few seconds). */
export const telemetryMessageSchema = z.object({
  v: protocolVersionSchema,
  deviceId: deviceIdSchema,
  windowStart: epochMillisSchema,
  windowMs: z.number().int().min(1).max(3_600_000),
  framesProcessed: nonNegativeIntegerSchema,
  /** Frames dropped by backpressure (stale frames discarded) during the window. */
  framesDropped: nonNegativeIntegerSchema,
  fps: boundedNumber(0, 10_000),
  /** Inference latency; null when no frame was processed in the window. */
  latencyMs: latencyPercentilesSchema.nullable(),
  /** Process CPU use; 100 = one core fully busy. */
  cpuPercent: boundedNumber(0, 100 * 4096),
  rssBytes: byteCountSchema,
  temperaturesC: temperaturesSchema,
  /** Null where no GPU statistics are available (non-Jetson, simulated). */
  gpu: gpuStatsSchema.nullable(),
  modelId: modelIdSchema.nullable(),
  /** Latest accuracy on the running model's eval set, or null before the first evaluation. */
  accuracy: fractionSchema.nullable(),
  /** Latest mAP@0.5 on the running model's eval set, or null; absent from agents before it was added. */
  map50: fractionSchema.nullable().optional(),
  spool: z.object({
    /** Events stored locally and not yet acknowledged. */
    depth: nonNegativeIntegerSchema,
    /** Events dropped because the spool was full, since the spool was created. */
    droppedTotal: nonNegativeIntegerSchema,
  }),
});

export type LatencyPercentiles = z.infer<typeof latencyPercentilesSchema>;
export type GpuStats = z.infer<typeof gpuStatsSchema>;
export type TelemetryMessage = z.infer<typeof telemetryMessageSchema>;
