import { KIND_DELIVERY, MESSAGE_KINDS } from './message-kinds';
import { type TopicScheme } from './topics';

/** Mosquitto's placeholder for the connecting client's username, which for a device is its device id. */
const USERNAME_PLACEHOLDER = '%u';

/**
 * The Mosquitto `acl_file` pattern lines that confine every device to its own topics: write on its
 * device-to-cloud kinds, read on its cloud-to-device kinds and on its own state (to notice a stale last will).
 * `infra/mosquitto/acl` must contain exactly these for the deployed prefix.
 */
export function deviceAclPatterns(topics: TopicScheme): string[] {
  const deviceTopic = (kind: (typeof MESSAGE_KINDS)[number]) =>
    topics
      .filterFor(kind)
      .replace(`${topics.prefix}/devices/+/`, `${topics.prefix}/devices/${USERNAME_PLACEHOLDER}/`);
  const writes = MESSAGE_KINDS.filter((kind) => KIND_DELIVERY[kind].direction === 'device-to-cloud');
  const reads = MESSAGE_KINDS.filter(
    (kind) => KIND_DELIVERY[kind].direction === 'cloud-to-device' || kind === 'state',
  );
  return [
    ...writes.map((kind) => `pattern write ${deviceTopic(kind)}`),
    ...reads.map((kind) => `pattern read ${deviceTopic(kind)}`),
  ];
}
