import { randomBytes, timingSafeEqual } from 'node:crypto';
import { identifierProblem, type TopicScheme } from '@emofleet/protocol';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import { DeviceTopicAcl } from './device-topic-acl';

/** Checks a device's MQTT password (its per-device secret); backed by the database once the app is up. */
export type DeviceAuthenticator = (deviceId: string, secret: string) => Promise<boolean>;

/** The control plane's own MQTT account on the embedded broker (a fresh random password every boot). */
export interface BrokerAccount {
  username: string;
  password: string;
}

export const CONTROL_PLANE_USERNAME = 'emofleet-control-plane';

/** MQTT 3.1.1 CONNACK return codes (aedes' AuthErrorCode is a const enum, unusable across modules). */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

/**
 * Who may connect to the embedded broker and what they may do:
 * - the control plane's internal account: anything but publishing to `$SYS`;
 * - a device: username = client id = device id, password = its secret (checked by the injected
 *   `DeviceAuthenticator`), confined to its own topics by `DeviceTopicAcl`;
 * - nobody else (no anonymous access).
 * A forbidden SUBSCRIBE is granted QoS 128 (failure); a forbidden PUBLISH closes the client's connection, which
 * is how MQTT 3.1.1 lets a server refuse one (MQTT-3.3.5-2); the message is never delivered.
 */
export class EmbeddedBrokerAccess {
  readonly controlPlaneAccount: BrokerAccount = {
    username: CONTROL_PLANE_USERNAME,
    password: randomBytes(32).toString('base64url'),
  };
  private readonly acl: DeviceTopicAcl;
  private readonly internalClients = new WeakSet<Client>();
  private readonly revokedDevices = new Set<string>();
  private deviceAuthenticator: DeviceAuthenticator | undefined;

  constructor(topics: TopicScheme) {
    this.acl = new DeviceTopicAcl(topics);
  }

  setDeviceAuthenticator(authenticator: DeviceAuthenticator): void {
    this.deviceAuthenticator = authenticator;
  }

  revoke(deviceId: string): void {
    this.revokedDevices.add(deviceId);
  }

  allow(deviceId: string): void {
    this.revokedDevices.delete(deviceId);
  }

  readonly authenticate: NonNullable<AedesOptions['authenticate']> = (client, username, password, done) => {
    const secret = password?.toString('utf8') ?? '';
    if (username === this.controlPlaneAccount.username) {
      if (!sameSecret(secret, this.controlPlaneAccount.password)) {
        return done(refusal(BAD_USERNAME_OR_PASSWORD, 'wrong control plane password'), false);
      }
      this.internalClients.add(client);
      return done(null, true);
    }
    if (username === undefined || identifierProblem(username) !== undefined) {
      return done(refusal(NOT_AUTHORIZED, 'a device id is required as the username'), false);
    }
    // A device may not take another client id: that would disconnect the device owning it.
    if (client.id !== username) {
      return done(refusal(IDENTIFIER_REJECTED, 'the client id must be the device id'), false);
    }
    if (this.revokedDevices.has(username)) return done(refusal(NOT_AUTHORIZED, 'device revoked'), false);
    const authenticator = this.deviceAuthenticator;
    if (!authenticator) return done(refusal(SERVER_UNAVAILABLE, 'control plane not ready'), false);
    authenticator(username, secret).then(
      (accepted) =>
        accepted && !this.revokedDevices.has(username)
          ? done(null, true)
          : done(refusal(BAD_USERNAME_OR_PASSWORD, 'device credentials not accepted'), false),
      () => done(refusal(SERVER_UNAVAILABLE, 'credential check failed'), false),
    );
  };

  readonly authorizePublish: NonNullable<AedesOptions['authorizePublish']> = (client, packet, done) => {
    if (packet.topic.startsWith('$SYS/')) return done(new Error('publishing to $SYS is not allowed'));
    // A null client is a will left by a broker that is gone; the embedded broker keeps none: refuse.
    if (client === null) return done(new Error('orphaned will refused'));
    if (this.internalClients.has(client)) return done(null);
    if (!this.revokedDevices.has(client.id) && this.acl.mayPublish(client.id, packet.topic))
      return done(null);
    return done(new Error(`device ${client.id} may not publish to ${packet.topic}`));
  };

  readonly authorizeSubscribe: NonNullable<AedesOptions['authorizeSubscribe']> = (
    client,
    subscription,
    done,
  ) => {
    if (this.internalClients.has(client) || this.acl.maySubscribe(client.id, subscription.topic)) {
      return done(null, subscription);
    }
    return done(null, null);
  };
}

function refusal(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
