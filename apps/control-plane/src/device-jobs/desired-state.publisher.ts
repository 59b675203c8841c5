import { Injectable } from '@nestjs/common';
import { type DesiredModel, type DesiredStateMessage, PROTOCOL_VERSION } from '@emofleet/protocol';
import { ManifestSigner } from '../artifacts/manifest-signer';
import { ArtifactUrls } from './artifact-urls';
import { DeviceJobsRepository, type DesiredStateSource } from './device-jobs.repository';
import { ProtocolMessageSender } from './protocol-message.sender';
import { SerialPerKey } from './serial-per-key';

/** The only model format the v1 agent installs. */
export const DEVICE_MODEL_FORMAT = 'darknet-bundle';

/**
 * Publishes a device's retained `desired` message from its stored desired state: the model version's darknet
 * bundle manifest signed with the current key (the one devices pin at enrolment) and its artifact URL.
 * Publications of one device (alone or in a batch) are serialised and read the table when they run, so the last
 * one sent is the current state.
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
    return this.publishMany([deviceId]);
  }

  /**
   * Publishes the desired states of several devices (those that have one): one read for all, each model's
   * manifest signed once, then one message each.
   */
  publishMany(deviceIds: readonly string[]): Promise<void> {
    return this.serial.runAll(deviceIds, async () => {
      const sources = await this.repository.desiredStateSources(deviceIds, DEVICE_MODEL_FORMAT);
      const models = new Map<string, Promise<DesiredModel>>();
      const modelOf = (deviceId: string, source: DesiredStateSource): Promise<DesiredModel> => {
        const versionId = source.desired.modelVersionId ?? '';
        let model = models.get(versionId);
        if (model === undefined) {
          model = this.signedModel(deviceId, source);
          models.set(versionId, model);
        }
        return model;
      };
      await Promise.all(
        [...sources].map(async ([deviceId, source]) => {
          const { desired } = source;
          const message: DesiredStateMessage = {
            v: PROTOCOL_VERSION,
            deviceId,
            desiredVersion: desired.desiredVersion,
            issuedAt: desired.issuedAt.getTime(),
            model: desired.modelVersionId === null ? null : await modelOf(deviceId, source),
            healthCheck: desired.healthCheck,
            rolloutId: desired.rolloutId,
          };
          await this.sender.send('desired', message);
        }),
      );
    });
  }

  /** The desired model of a state naming a model version: its manifest, artifact URL and signature. */
  private async signedModel(
    deviceId: string,
    { desired, version, manifest }: DesiredStateSource,
  ): Promise<DesiredModel> {
    if (version === undefined || manifest === undefined) {
      throw new Error(
        `the desired model version ${String(desired.modelVersionId)} of ${deviceId} has no ${DEVICE_MODEL_FORMAT} manifest`,
      );
    }
    const signed = {
      modelId: version.modelName,
      version: String(version.version),
      format: DEVICE_MODEL_FORMAT,
      sha256: manifest.sha256,
      sizeBytes: manifest.sizeBytes,
    } as const;
    return {
      ...signed,
      artifactUrl: await this.artifactUrls.forArtifact(manifest.sha256),
      signature: this.signer.sign(signed),
    };
  }
}
