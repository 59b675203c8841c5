import { Logger } from '@nestjs/common';
import { type EmbeddedBroker } from '../infra/embedded-broker';
import { type BrokerCredentialsAdapter } from './broker-credentials.adapter';
import { type DeviceCredentialsRepository } from './device-credentials.repository';

/**
 * The embedded broker checks every device CONNECT against `device_credentials` (through the authenticator set
 * here), so granting needs no broker-side account: the enrolment transaction's row is the account. Revoking
 * also ends the device's live session and refuses the device in this process at once.
 */
export class EmbeddedBrokerCredentials implements BrokerCredentialsAdapter {
  private readonly logger = new Logger(EmbeddedBrokerCredentials.name);

  constructor(
    private readonly broker: EmbeddedBroker,
    credentials: DeviceCredentialsRepository,
  ) {
    broker.setDeviceAuthenticator((deviceId, secret) =>
      credentials.verify(deviceId, secret).catch((error: unknown) => {
        this.logger.error(`checking the MQTT credentials of ${deviceId} failed: ${String(error)}`);
        throw error;
      }),
    );
  }

  grantDevice(deviceId: string): Promise<void> {
    this.broker.allowDevice(deviceId);
    return Promise.resolve();
  }

  revokeDevice(deviceId: string): Promise<void> {
    this.broker.revokeDevice(deviceId);
    return Promise.resolve();
  }
}
