import { Global, Module } from '@nestjs/common';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DEVICE_ARTIFACT_ACCESS, DEVICE_CREDENTIALS_VERIFIER } from './artifact-requester';
import { ArtifactRequesterResolver } from './artifact-requester.resolver';
import { ARTIFACT_STORE } from './artifact-store';
import { DatabaseDeviceArtifactAccess } from './device-artifact-access';
import { DatabaseDeviceCredentialsVerifier } from './device-credentials.verifier';
import { FilesystemArtifactStore } from './filesystem-artifact-store';
import { ManifestSigner } from './manifest-signer';

/** The artifact store, the manifest signer and the device-facing request authentication; both roles. */
@Global()
@Module({
  providers: [
    {
      provide: ARTIFACT_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new FilesystemArtifactStore(config.artifacts.directory),
    },
    ManifestSigner,
    ArtifactRequesterResolver,
    { provide: DEVICE_CREDENTIALS_VERIFIER, useClass: DatabaseDeviceCredentialsVerifier },
    { provide: DEVICE_ARTIFACT_ACCESS, useClass: DatabaseDeviceArtifactAccess },
  ],
  exports: [ARTIFACT_STORE, ManifestSigner, ArtifactRequesterResolver, DEVICE_ARTIFACT_ACCESS],
})
export class ArtifactStorageModule {}
