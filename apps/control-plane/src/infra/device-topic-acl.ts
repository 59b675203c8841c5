import { deviceSubscriptions, KIND_DELIVERY, type TopicScheme } from '@emofleet/protocol';

/**
 * The per-device topic ACL of libs/protocol's topic scheme, as the embedded broker enforces it (and as
 * infra/mosquitto/acl and the dynamic security role express it for Mosquitto):
 * - a device publishes only the device-to-cloud kinds under its own id;
 * - a device subscribes only to its own cloud-to-device kinds and its own `state` (to notice a stale will),
 *   with exactly the filters `deviceSubscriptions` produces or one concrete topic of those kinds.
 */
export class DeviceTopicAcl {
  constructor(private readonly topics: TopicScheme) {}

  mayPublish(deviceId: string, topic: string): boolean {
    const parsed = this.topics.parse(topic);
    return (
      parsed.ok && parsed.deviceId === deviceId && KIND_DELIVERY[parsed.kind].direction === 'device-to-cloud'
    );
  }

  maySubscribe(deviceId: string, filter: string): boolean {
    if (deviceSubscriptions(this.topics, deviceId).some((subscription) => subscription.topic === filter)) {
      return true;
    }
    // A concrete topic (no wildcards) of a kind the device may read, e.g. one job's update response.
    if (filter.includes('+') || filter.includes('#')) return false;
    const parsed = this.topics.parse(filter);
    return (
      parsed.ok &&
      parsed.deviceId === deviceId &&
      (KIND_DELIVERY[parsed.kind].direction === 'cloud-to-device' || parsed.kind === 'state')
    );
  }
}
