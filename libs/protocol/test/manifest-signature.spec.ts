import { generateKeyPairSync } from 'node:crypto';
import {
  canonicalManifestBytes,
  desiredModelSchema,
  signManifest,
  verifyManifestSignature,
  type ModelManifest,
} from '../src';

describe('model manifest signatures', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const manifest: ModelManifest = {
    modelId: 'fer-yolov3-tiny',
    version: '4',
    format: 'darknet-bundle',
    sha256: 'b'.repeat(64),
    sizeBytes: 1234,
  };

  it('signs the canonical manifest: fixed key order, context prefix, no whitespace', () => {
    expect(canonicalManifestBytes(manifest).toString()).toBe(
      'emofleet-model-manifest/v1\n' +
        `{"format":"darknet-bundle","modelId":"fer-yolov3-tiny","sha256":"${'b'.repeat(64)}","sizeBytes":1234,"version":"4"}`,
    );
    const shuffled = {
      sizeBytes: 1234,
      version: '4',
      sha256: 'b'.repeat(64),
      format: 'darknet-bundle',
      modelId: 'fer-yolov3-tiny',
    } as const;
    expect(canonicalManifestBytes(shuffled)).toEqual(canonicalManifestBytes(manifest));
  });

  it('produces signatures the desired-state schema accepts and the public key verifies', () => {
    const signature = signManifest(manifest, privateKey);
    const desired = { ...manifest, artifactUrl: 'https://cdn.example/a', signature };
    expect(desiredModelSchema.safeParse(desired).success).toBe(true);
    expect(verifyManifestSignature(desired, signature, publicKey)).toBe(true);
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(verifyManifestSignature(manifest, signature, pem)).toBe(true);
  });

  it.each<[string, Partial<ModelManifest>]>([
    ['sha256', { sha256: 'c'.repeat(64) }],
    ['size', { sizeBytes: 1235 }],
    ['version', { version: '5' }],
    ['model id', { modelId: 'other' }],
    ['format', { format: 'onnx-bundle' }],
  ])('rejects the signature when the %s changed', (_field, change) => {
    const signature = signManifest(manifest, privateKey);
    expect(verifyManifestSignature({ ...manifest, ...change }, signature, publicKey)).toBe(false);
  });

  it('rejects signatures by another key, malformed signatures and non-ed25519 keys without throwing', () => {
    const signature = signManifest(manifest, privateKey);
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(verifyManifestSignature(manifest, signature, other)).toBe(false);
    expect(verifyManifestSignature(manifest, 'not base64!', publicKey)).toBe(false);
    expect(verifyManifestSignature(manifest, signature.slice(4), publicKey)).toBe(false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(verifyManifestSignature(manifest, signature, rsa.publicKey)).toBe(false);
    expect(() => signManifest(manifest, rsa.privateKey)).toThrow('needs an ed25519 key, got rsa');
  });
});
