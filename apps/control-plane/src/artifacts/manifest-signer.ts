import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { type EngineBuildOrder, type ModelManifest, signEngineBuild, signManifest } from '@emofleet/protocol';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/**
 * The control plane's ed25519 manifest signing key: loaded from `SIGNING_KEY_FILE`, or generated at first start
 * as `<dataDir>/signing-key.pem` (mode 0600; created exclusively, so an api and a worker starting together on
 * the same data directory end up with one key). Devices pin the public key (`GET /signing-key`).
 */
@Injectable()
export class ManifestSigner {
  private readonly privateKey: KeyObject;
  readonly publicKeyPem: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.privateKey = loadOrCreateKey(
      config.artifacts.signingKeyFile ?? join(config.dataDir, 'signing-key.pem'),
      {
        create: config.artifacts.signingKeyFile === undefined,
      },
    );
    this.publicKeyPem = createPublicKey(this.privateKey).export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Base64 signature over libs/protocol's canonical manifest bytes. */
  sign(manifest: ModelManifest): string {
    return signManifest(manifest, this.privateKey);
  }

  /** Base64 signature over libs/protocol's canonical `build-engine` order (the builder verifies it). */
  signEngineBuild(order: EngineBuildOrder): string {
    return signEngineBuild(order, this.privateKey);
  }
}

function loadOrCreateKey(path: string, options: { create: boolean }): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !options.create) {
      throw new Error(`cannot read the manifest signing key ${path}: ${(error as Error).message}`);
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(dirname(path), { recursive: true });
    try {
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    } catch (writeError) {
      // Another process created it between our read and write: use theirs.
      if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
    }
    pem = readFileSync(path, 'utf8');
  }
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`the manifest signing key ${path} is ${String(key.asymmetricKeyType)}, not ed25519`);
  }
  return key;
}
