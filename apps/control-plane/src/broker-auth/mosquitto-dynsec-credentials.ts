import { deviceSubscriptions, KIND_DELIVERY, MESSAGE_KINDS, TopicScheme } from '@emofleet/protocol';
import { type BrokerCredentialsAdapter } from './broker-credentials.adapter';
import { DynsecCommandError, type MosquittoDynsecClient } from './mosquitto-dynsec-client';

/** The dynamic security role that confines one device to its own topics. */
export const deviceRoleName = (deviceId: string): string => `emofleet-device-${deviceId}`;

/**
 * MQTT_DEVICE_CREDENTIALS=mosquitto-dynsec: each enrolled device becomes a dynamic security client (username
 * and client id = device id, password = its secret; Mosquitto stores it as a salted PBKDF2 hash) with its own
 * role, whose ACLs are the device's topics from libs/protocol: publish its device-to-cloud kinds, subscribe to
 * its own cloud-to-device kinds and its own state. Decommissioning deletes both; Mosquitto disconnects the
 * client when it is deleted.
 */
export class MosquittoDynsecCredentials implements BrokerCredentialsAdapter {
  private readonly topics: TopicScheme;

  constructor(
    private readonly dynsec: MosquittoDynsecClient,
    topicPrefix: string,
  ) {
    this.topics = new TopicScheme(topicPrefix);
  }

  async grantDevice(deviceId: string, secret: string): Promise<void> {
    const rolename = deviceRoleName(deviceId);
    await this.dynsec.run([
      {
        command: 'createRole',
        rolename,
        textdescription: `emofleet device ${deviceId}`,
        acls: this.deviceAcls(deviceId),
      },
      {
        command: 'createClient',
        username: deviceId,
        clientid: deviceId,
        password: secret,
        roles: [{ rolename }],
      },
    ]);
  }

  async revokeDevice(deviceId: string): Promise<void> {
    // Each deletion on its own: a device half-provisioned by a failed grant still gets cleaned up.
    for (const command of [
      { command: 'deleteClient', username: deviceId },
      { command: 'deleteRole', rolename: deviceRoleName(deviceId) },
    ]) {
      try {
        await this.dynsec.run([command]);
      } catch (error) {
        if (!(error instanceof DynsecCommandError && /not found/i.test(error.brokerError))) throw error;
      }
    }
  }

  private deviceAcls(
    deviceId: string,
  ): Array<{ acltype: string; topic: string; allow: true; priority: number }> {
    const publish = MESSAGE_KINDS.filter((kind) => KIND_DELIVERY[kind].direction === 'device-to-cloud').map(
      (kind) => ({
        acltype: 'publishClientSend',
        topic: this.topics.filterFor(kind, deviceId),
        allow: true as const,
        priority: 0,
      }),
    );
    const subscribe = deviceSubscriptions(this.topics, deviceId).map((subscription) => ({
      acltype: 'subscribePattern',
      topic: subscription.topic,
      allow: true as const,
      priority: 0,
    }));
    return [...publish, ...subscribe];
  }
}
