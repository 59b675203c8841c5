import { z } from 'zod';
import { deviceIdSchema } from '../identifiers';
import {
  byteCountSchema,
  epochMillisSchema,
  fractionSchema,
  httpUrlSchema,
  modelIdSchema,
  nonNegativeIntegerSchema,
  protocolVersionSchema,
  sha256Schema,
  versionStringSchema,
} from './common';

/** How the model artifact is packaged. */
export const modelFormatSchema = z.enum(['darknet-bundle', 'onnx-bundle', 'tensorrt-engine']);

/**
 * The identity of a model artifact: what the control plane signs. The URL is not part of it on purpose: the
 * same bytes may be served from another host (mirror, proxy) without re-signing, and the sha256 binds the bytes.
 */
export const modelManifestSchema = z.object({
  modelId: modelIdSchema,
  version: versionStringSchema,
  format: modelFormatSchema,
  /** Lower-case hex SHA-256 of the artifact file. */
  sha256: sha256Schema,
  sizeBytes: byteCountSchema.min(1),
});

/** Base64 of a 64-byte ed25519 signature. */
export const ed25519SignatureSchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]{86}==$/, 'must be the base64 of a 64-byte ed25519 signature');

export const desiredModelSchema = modelManifestSchema.extend({
  artifactUrl: httpUrlSchema,
  /** ed25519 signature by the control plane over `canonicalManifestBytes(manifest)`. */
  signature: ed25519SignatureSchema,
});

/** What the device must prove before switching to the new model (the rollout's health gate). */
export const healthCheckSpecSchema = z.object({
  warmupFrames: nonNegativeIntegerSchema.max(100_000),
  measureFrames: z.number().int().min(1).max(100_000),
  minFps: z.number().min(0).max(10_000),
  /** Minimum share of eval images detected correctly, or null for no accuracy gate. */
  minAccuracy: fractionSchema.nullable(),
});

/**
 * The model a device should run (retained, one per device). `desiredVersion` grows with every change for the
 * device, so an agent ignores a desired state older than the one it already applied. `model: null` means the
 * device should run no model.
 */
export const desiredStateMessageSchema = z.object({
  v: protocolVersionSchema,
  deviceId: deviceIdSchema,
  desiredVersion: nonNegativeIntegerSchema,
  issuedAt: epochMillisSchema,
  model: desiredModelSchema.nullable(),
  healthCheck: healthCheckSpecSchema.nullable(),
  /** The rollout that set this state, or null for a manual assignment. */
  rolloutId: z.string().min(1).max(64).nullable(),
});

export type ModelFormat = z.infer<typeof modelFormatSchema>;
export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type DesiredModel = z.infer<typeof desiredModelSchema>;
export type HealthCheckSpec = z.infer<typeof healthCheckSpecSchema>;
export type DesiredStateMessage = z.infer<typeof desiredStateMessageSchema>;
