import { Logger } from '@nestjs/common';
import { type BrokerCredentialsAdapter } from './broker-credentials.adapter';

/**
 * MQTT_DEVICE_CREDENTIALS=unmanaged: the broker's accounts are provisioned outside the control plane (e.g.
 * infra/mosquitto's password file and ACL, or a broker without authentication in development). Enrolment still
 * issues and stores a secret; the operator must give the broker the same account, which this adapter says.
 */
export class UnmanagedBrokerCredentials implements BrokerCredentialsAdapter {
  private readonly logger = new Logger(UnmanagedBrokerCredentials.name);

  grantDevice(deviceId: string): Promise<void> {
    this.logger.warn(
      `device ${deviceId} enrolled, but the MQTT broker's accounts are unmanaged: add ${deviceId} and its secret ` +
        "to the broker's password file (infra/mosquitto) or set MQTT_DEVICE_CREDENTIALS=mosquitto-dynsec",
    );
    return Promise.resolve();
  }

  revokeDevice(deviceId: string): Promise<void> {
    this.logger.warn(
      `device ${deviceId} decommissioned, but the MQTT broker's accounts are unmanaged: remove ${deviceId} ` +
        "from the broker's password file",
    );
    return Promise.resolve();
  }
}
