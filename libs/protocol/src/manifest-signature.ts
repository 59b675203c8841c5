import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { type ModelManifest } from './schemas/desired-state';
import { type BuildEngineParameters } from './schemas/engine-build';

/** Domain separation: a signature over a manifest can never be mistaken for a signature over anything else. */
const MANIFEST_SIGNATURE_CONTEXT = 'emofleet-model-manifest/v1\n';

/**
 * The exact bytes the control plane signs for a model: a context line, then the manifest fields as JSON in a
 * fixed (alphabetical) key order with no whitespace. Extra fields of the argument are ignored, so a desired
 * model (manifest + URL + signature) can be passed as it is.
 */
export function canonicalManifestBytes(manifest: ModelManifest): Buffer {
  const canonical = JSON.stringify({
    format: manifest.format,
    modelId: manifest.modelId,
    sha256: manifest.sha256,
    sizeBytes: manifest.sizeBytes,
    version: manifest.version,
  });
  return Buffer.from(MANIFEST_SIGNATURE_CONTEXT + canonical, 'utf8');
}

function asPrivateKey(key: KeyObject | string): KeyObject {
  return typeof key === 'string' ? createPrivateKey(key) : key;
}

function asPublicKey(key: KeyObject | string): KeyObject {
  return typeof key === 'string' ? createPublicKey(key) : key;
}

/** Base64 ed25519 signature of the manifest; `privateKey` is a KeyObject or PEM. */
export function signManifest(manifest: ModelManifest, privateKey: KeyObject | string): string {
  const key = asPrivateKey(privateKey);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`Manifest signing needs an ed25519 key, got ${String(key.asymmetricKeyType)}`);
  }
  return sign(null, canonicalManifestBytes(manifest), key).toString('base64');
}

/**
 * Whether `signatureBase64` is a valid ed25519 signature of the manifest by `publicKey` (KeyObject or PEM, the
 * key pinned at enrolment). Returns false, never throws, for malformed signatures.
 */
export function verifyManifestSignature(
  manifest: ModelManifest,
  signatureBase64: string,
  publicKey: KeyObject | string,
): boolean {
  return verifyBytes(canonicalManifestBytes(manifest), signatureBase64, publicKey);
}

function verifyBytes(bytes: Buffer, signatureBase64: string, publicKey: KeyObject | string): boolean {
  const key = asPublicKey(publicKey);
  if (key.asymmetricKeyType !== 'ed25519') return false;
  const signature = Buffer.from(signatureBase64, 'base64');
  if (signature.length !== 64) return false;
  try {
    return verify(null, bytes, key, signature);
  } catch {
    return false;
  }
}

/** Domain separation for `build-engine` orders, as for manifests. */
const ENGINE_BUILD_SIGNATURE_CONTEXT = 'emofleet-engine-build/v1\n';

/** What the control plane signs of a `build-engine` job: everything but the URLs and the signature itself. */
export type EngineBuildOrder = Pick<
  BuildEngineParameters,
  'cacheKey' | 'modelVersionId' | 'target' | 'trtexecArgs'
> & { source: Pick<BuildEngineParameters['source'], 'format' | 'sha256' | 'sizeBytes'> };

/**
 * The exact bytes signed for a `build-engine` job: a context line, then the order as JSON with a fixed key
 * order (`jetpack` null when absent) and no whitespace. Extra fields (URLs, signature) are ignored, so the job's
 * parameters can be passed as they are.
 */
export function canonicalEngineBuildBytes(order: EngineBuildOrder): Buffer {
  const canonical = JSON.stringify({
    cacheKey: order.cacheKey,
    modelVersionId: order.modelVersionId,
    source: { format: order.source.format, sha256: order.source.sha256, sizeBytes: order.source.sizeBytes },
    target: {
      gpuArch: order.target.gpuArch,
      jetpack: order.target.jetpack ?? null,
      precision: order.target.precision,
      tensorrt: order.target.tensorrt,
    },
    trtexecArgs: [...order.trtexecArgs],
  });
  return Buffer.from(ENGINE_BUILD_SIGNATURE_CONTEXT + canonical, 'utf8');
}

/** Base64 ed25519 signature of a `build-engine` order; `privateKey` is a KeyObject or PEM. */
export function signEngineBuild(order: EngineBuildOrder, privateKey: KeyObject | string): string {
  const key = asPrivateKey(privateKey);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`Engine build signing needs an ed25519 key, got ${String(key.asymmetricKeyType)}`);
  }
  return sign(null, canonicalEngineBuildBytes(order), key).toString('base64');
}

/** Whether `signatureBase64` signs the order with `publicKey`; false, never a throw, for malformed input. */
export function verifyEngineBuildSignature(
  order: EngineBuildOrder,
  signatureBase64: string,
  publicKey: KeyObject | string,
): boolean {
  return verifyBytes(canonicalEngineBuildBytes(order), signatureBase64, publicKey);
}
