import { KIND_DELIVERY, type MessageKind } from './message-kinds';

/** MQTT protocol level as mqtt.js names it: 4 is MQTT 3.1.1, 5 is MQTT 5. */
export type MqttProtocolVersion = 4 | 5;

/** Why `group` cannot name a shared subscription group, or `undefined` when it can. */
export function shareGroupProblem(group: string): string | undefined {
  if (group.length === 0) return 'is empty';
  if (group.length > 64) return 'is longer than 64 characters';
  if (/[/+#\s]/.test(group) || group.includes('\u0000')) return 'contains "/", "+", "#", whitespace or NUL';
  return undefined;
}

/** `$share/<group>/<filter>`: the broker delivers each message to one subscriber of the group (MQTT 5). */
export function sharedSubscriptionTopic(group: string, filter: string): string {
  const problem = shareGroupProblem(group);
  if (problem !== undefined)
    throw new RangeError(`Shared subscription group ${JSON.stringify(group)} ${problem}`);
  return `$share/${group}/${filter}`;
}

/**
 * The filter to subscribe with for `kind`: shared across the group on MQTT 5 when the kind allows sharing,
 * the plain filter otherwise (MQTT 3.1.1 has no shared subscriptions; every subscriber gets every message).
 */
export function subscriptionTopicFor(
  kind: MessageKind,
  filter: string,
  connection: { readonly protocolVersion: MqttProtocolVersion; readonly shareGroup?: string },
): string {
  if (
    connection.protocolVersion === 5 &&
    connection.shareGroup !== undefined &&
    KIND_DELIVERY[kind].shareable
  ) {
    return sharedSubscriptionTopic(connection.shareGroup, filter);
  }
  return filter;
}

/** MQTT 5 PUBLISH properties for `kind` (message expiry); empty on MQTT 3.1.1, which has no properties. */
export function publishPropertiesFor(
  kind: MessageKind,
  protocolVersion: MqttProtocolVersion,
): { messageExpiryInterval?: number } {
  const expiry = KIND_DELIVERY[kind].messageExpirySeconds;
  if (protocolVersion !== 5 || expiry === undefined) return {};
  return { messageExpiryInterval: expiry };
}
