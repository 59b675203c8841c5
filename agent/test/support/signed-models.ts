import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  PROTOCOL_VERSION,
  signManifest,
  type DesiredStateMessage,
  type HealthCheckSpec,
  type ModelManifest,
} from '@emofleet/protocol';
import { SYNTHETIC_LABELS, SyntheticDetector } from '../../src/detector';
import { packModelBundle, type ModelLoader } from '../../src/reconcile';
import { type ArtifactServerDouble } from './artifact-server-double';

/** The control plane's manifest signing key pair, as a test stands it in. */
export function signingKeys(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * A darknet bundle whose cfg carries `# synthetic-latency-ms=<n>`, read by `testModelLoader`; `extraFiles` adds
 * entries such as an eval set (`eval/a.png`, `eval/a.txt`).
 */
export function testBundle(
  latencyMs: number,
  weightsBytes = 200_000,
  extraFiles: Record<string, Buffer | string> = {},
): Buffer {
  return packModelBundle({
    'model.cfg': `[net]\nwidth=416\nheight=416\n# synthetic-latency-ms=${latencyMs}\n`,
    'model.weights': randomBytes(weightsBytes),
    'model.names': `${SYNTHETIC_LABELS.join('\n')}\n`,
    ...extraFiles,
  });
}

/** A small grey PNG made by Debian's ffmpeg, for eval sets. */
export function grayPng(): Buffer {
  return execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=gray:size=32x32'],
    ...['-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'],
  ]);
}

/** Loads a test bundle as a synthetic detector that takes the cfg's latency per frame. */
export const testModelLoader: ModelLoader = async (directory, model) => {
  const cfg = await fs.readFile(path.join(directory, 'model.cfg'), 'utf8');
  const latencyMs = Number(/synthetic-latency-ms=(\d+)/.exec(cfg)?.[1] ?? 0);
  return new SyntheticDetector({ modelId: model.modelId, latencyMs });
};

export function desiredStateFor(options: {
  deviceId: string;
  desiredVersion: number;
  modelId: string;
  artifact: { sha256: string; url: string; sizeBytes: number };
  privateKeyPem: string;
  healthCheck?: HealthCheckSpec | null;
  /** Tamper with the manifest after signing. */
  overrides?: Partial<ModelManifest>;
}): DesiredStateMessage {
  const manifest: ModelManifest = {
    modelId: options.modelId,
    version: '1.0.0',
    format: 'darknet-bundle',
    sha256: options.artifact.sha256,
    sizeBytes: options.artifact.sizeBytes,
  };
  const signature = signManifest(manifest, options.privateKeyPem);
  return {
    v: PROTOCOL_VERSION,
    deviceId: options.deviceId,
    desiredVersion: options.desiredVersion,
    issuedAt: Date.now(),
    model: { ...manifest, ...options.overrides, artifactUrl: options.artifact.url, signature },
    healthCheck:
      options.healthCheck === undefined
        ? { warmupFrames: 2, measureFrames: 10, minFps: 5, minAccuracy: null }
        : options.healthCheck,
    rolloutId: null,
  };
}

export function serveBundle(server: ArtifactServerDouble, bundle: Buffer) {
  return server.add(bundle);
}
