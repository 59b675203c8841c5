import { Injectable } from '@nestjs/common';
import { type DesiredModel, type DesiredStateMessage, PROTOCOL_VERSION } from '@emofleet/protocol';
import { ManifestSigner } from '../artifacts/manifest-signer';
import { ArtifactUrls } from './artifact-urls';
import { DeviceJobsRepository } from './device-jobs.repository';
import { ProtocolMessageSender } from './protocol-message.sender';
import { SerialPerKey } from './serial-per-key';

/** The only model format the v1 agent installs. */
export const DEVICE_MODEL_FORMAT = 'darknet-bundle';

/**
 * Publishes a device's retained `desired` message from its stored desired state: the model version's darknet
 * bundle manifest signed with the current key (the one devices pin at enrolment) and its artifact URL.
 * Publications of one device are serialised and read the table when they run, so the last one sent is the
 * current state.
 */
@Injectable()
export class DesiredStatePublisher {
  private readonly serial = new SerialPerKey();

  constructor(
    private readonly repository: DeviceJobsRepository,
    private readonly signer: ManifestSigner,
    private readonly artifactUrls: ArtifactUrls,
    private readonly sender: ProtocolMessageSender,
  ) {}

  /** Publishes the device's desired state; does nothing when none was ever set. */
  publish(deviceId: string): Promise<void> {
    return this.serial.run(deviceId, async () => {
      const message = await this.currentMessage(deviceId);
      if (message !== undefined) await this.sender.send('desired', message);
    });
  }

  private async currentMessage(deviceId: string): Promise<DesiredStateMessage | undefined> {
    const source = await this.repository.desiredStateSource(deviceId, DEVICE_MODEL_FORMAT);
    if (source === undefined) return undefined;
    const { desired, version, manifest } = source;
    let model: DesiredModel | null = null;
    if (desired.modelVersionId !== null) {
      if (version === undefined || manifest === undefined) {
        throw new Error(
          `the desired model version ${desired.modelVersionId} of ${deviceId} has no ${DEVICE_MODEL_FORMAT} manifest`,
        );
      }
      const signed = {
        modelId: version.modelName,
        version: String(version.version),
        format: DEVICE_MODEL_FORMAT,
        sha256: manifest.sha256,
        sizeBytes: manifest.sizeBytes,
      } as const;
      model = {
        ...signed,
        artifactUrl: await this.artifactUrls.forArtifact(manifest.sha256),
        signature: this.signer.sign(signed),
      };
    }
    return {
      v: PROTOCOL_VERSION,
      deviceId,
      desiredVersion: desired.desiredVersion,
      issuedAt: desired.issuedAt.getTime(),
      model,
      healthCheck: desired.healthCheck,
      rolloutId: desired.rolloutId,
    };
  }
}
