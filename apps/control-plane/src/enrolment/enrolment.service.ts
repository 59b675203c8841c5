import { GoneException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { TopicScheme } from '@emofleet/protocol';
import { ManifestSigner } from '../artifacts/manifest-signer';
import { hashSecret, newSecret } from '../auth/token-secret';
import { BROKER_CREDENTIALS, type BrokerCredentialsAdapter } from '../broker-auth/broker-credentials.adapter';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { INFRASTRUCTURE, type Infrastructure } from '../infra/infrastructure';
import { type EnrolRequestDto, type EnrolResponseDto } from './enrolment.dto';
import { EnrolmentRepository } from './enrolment.repository';
import { enrolmentTokenState } from './enrolment-tokens.service';
import { newDeviceId } from './device-id';

/**
 * `POST /enrol`: a device trades an enrolment token for its own identity and credentials. The token is checked
 * and consumed, the device registered and its secret stored (hashed) and granted on the broker in one
 * transaction. An unknown token is 401; a revoked, expired or used-up one is 410 with the reason.
 */
@Injectable()
export class EnrolmentService {
  private readonly topics: TopicScheme;

  constructor(
    private readonly repository: EnrolmentRepository,
    @Inject(BROKER_CREDENTIALS) private readonly broker: BrokerCredentialsAdapter,
    private readonly signer: ManifestSigner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure,
  ) {
    this.topics = new TopicScheme(config.mqtt.topicPrefix);
  }

  async enrol(request: EnrolRequestDto): Promise<EnrolResponseDto> {
    const deviceId = newDeviceId(request.name);
    const secret = newSecret();
    const outcome = await this.repository.enrol(
      hashSecret(request.token),
      {
        id: deviceId,
        name: request.name,
        capabilities: request.capabilities ?? null,
        secretHash: hashSecret(secret),
      },
      () => this.broker.grantDevice(deviceId, secret),
    );
    if (!outcome.ok) {
      const token = outcome.token;
      if (!token) throw new UnauthorizedException('unknown enrolment token');
      const state = enrolmentTokenState(token);
      const reason =
        state === 'revoked'
          ? `was revoked at ${token.revokedAt?.toISOString() ?? '?'}`
          : state === 'expired'
            ? `expired at ${token.expiresAt.toISOString()}`
            : `has been used ${token.uses} of ${token.maxUses ?? '∞'} times`;
      throw new GoneException(`enrolment token ${token.id} ${reason}; ask an operator for a new one`);
    }
    return {
      deviceId,
      name: request.name,
      tags: outcome.token.tags,
      secret,
      mqttUrl: this.deviceFacingMqttUrl(),
      topicPrefix: this.topics.prefix,
      signingPublicKey: this.signer.publicKeyPem,
      caCertificate: this.infrastructure.tls?.ca?.toString('utf8') ?? null,
    };
  }

  /** MQTT_PUBLIC_URL, else the broker URL the control plane uses, without the control plane's own credentials. */
  deviceFacingMqttUrl(): string {
    if (this.config.mqtt.publicUrl !== undefined) return this.config.mqtt.publicUrl;
    const url = new URL(this.infrastructure.mqttUrl);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  }
}
