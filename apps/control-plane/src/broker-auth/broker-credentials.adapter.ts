/**
 * Keeps the MQTT broker's device accounts in step with enrolment and decommissioning. One implementation per
 * kind of broker (MQTT_DEVICE_CREDENTIALS): the embedded broker (checks `device_credentials` in the database),
 * Mosquitto's dynamic security plugin, or `unmanaged` (the operator provisions the broker).
 */
export interface BrokerCredentialsAdapter {
  /** Lets `deviceId` connect with `secret` and confines it to its own topics. */
  grantDevice(deviceId: string, secret: string): Promise<void>;
  /** Stops `deviceId` from connecting and ends its live session, if any. */
  revokeDevice(deviceId: string): Promise<void>;
}

export const BROKER_CREDENTIALS = Symbol('BROKER_CREDENTIALS');
