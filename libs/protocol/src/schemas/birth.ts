import { z } from 'zod';
import { deviceIdSchema } from '../identifiers';
import {
  byteCountSchema,
  epochMillisSchema,
  humanTextSchema,
  modelIdSchema,
  nonNegativeIntegerSchema,
  protocolVersionSchema,
  sequenceNumberSchema,
  versionStringSchema,
} from './common';
import { gpuArchSchema } from './engine-build';

/** A detector backend the device can run, e.g. `tensorrt`, `onnxruntime-cpu`, `opencv-dnn`, `synthetic`. */
export const detectorBackendSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'backend name must be lower-case letters, digits, ".", "_", "-"');

export const deviceCapabilitiesSchema = z.object({
  /** `process.arch` of the agent, e.g. `arm64`, `x64`. */
  arch: z.string().min(1).max(32),
  os: z.object({
    /** `process.platform`, e.g. `linux`. */
    platform: z.string().min(1).max(32),
    /** Kernel release (`os.release()`). */
    release: z.string().min(1).max(128),
    /** Distribution name from /etc/os-release, when known. */
    distribution: z.string().min(1).max(128).optional(),
  }),
  /** Jetson board model (device tree), present only on Jetsons. */
  jetsonModel: z.string().min(1).max(128).optional(),
  /** L4T release, e.g. `32.7.1`; present only on Jetsons. */
  l4tVersion: versionStringSchema.optional(),
  jetpackVersion: versionStringSchema.optional(),
  tensorrtVersion: versionStringSchema.optional(),
  cudaVersion: versionStringSchema.optional(),
  /** CUDA architecture of the GPU, e.g. `sm_53` (TX1, Nano); from the device tree, present only when known. */
  gpuArch: gpuArchSchema.optional(),
  /**
   * True when the agent can run `build-engine` jobs (a TensorRT builder command, trtexec, is installed);
   * absent otherwise. A builder's class is its `gpuArch` + `tensorrtVersion` (+ `jetpackVersion`).
   */
  engineBuilder: z.boolean().optional(),
  cpuCores: z.number().int().min(1).max(4096),
  memoryBytes: byteCountSchema.min(1),
  detectorBackends: z.array(detectorBackendSchema).max(32),
  /** True for agents of `emofleet-agent simulate`: the device is not real hardware. */
  simulated: z.boolean(),
});

export const runningModelSchema = z.object({
  modelId: modelIdSchema,
  version: versionStringSchema,
});

/**
 * A rollback the agent made on its own because of a crash loop: the agent kept dying with a new model, either
 * after switching to it (before its probation ended: the agent went back to the previous model) or while loading
 * or health-checking it (the agent gave it up and kept the running model). Reported in every birth until the
 * next one, since no job may be open to report it to.
 */
export const automaticRollbackSchema = z.object({
  at: epochMillisSchema,
  /** The model given up. */
  model: runningModelSchema,
  /** The desired state version that had installed it (the agent will not apply that version again). */
  desiredVersion: nonNegativeIntegerSchema,
  /** The model running after the rollback (null: none, the given-up model was the first). */
  restoredModel: runningModelSchema.nullable(),
  reason: humanTextSchema,
});

/**
 * Published (retained) after every connect, before the `online` state. `bdSeq` is the session sequence: the
 * same number as in this session's last will, one higher than the previous session's.
 */
export const birthMessageSchema = z.object({
  v: protocolVersionSchema,
  deviceId: deviceIdSchema,
  bdSeq: sequenceNumberSchema,
  timestamp: epochMillisSchema,
  agentVersion: versionStringSchema,
  capabilities: deviceCapabilitiesSchema,
  /** The model the detector runs right now, or null before the first install. */
  runningModel: runningModelSchema.nullable(),
  /** The last automatic (crash-loop) rollback, if there was one; absent from agents before it was added. */
  lastRollback: automaticRollbackSchema.optional(),
});

export type DeviceCapabilities = z.infer<typeof deviceCapabilitiesSchema>;
export type RunningModel = z.infer<typeof runningModelSchema>;
export type BirthMessage = z.infer<typeof birthMessageSchema>;
export type AutomaticRollback = z.infer<typeof automaticRollbackSchema>;
