import { KIND_DELIVERY, MESSAGE_KINDS, type MessageKind } from './message-kinds';
import { subscriptionTopicFor, type MqttProtocolVersion } from './mqtt5';
import { type TopicScheme } from './topics';

export interface Subscription {
  readonly kind: MessageKind;
  /** Filter to pass to SUBSCRIBE (may be a `$share/...` topic on MQTT 5). */
  readonly topic: string;
  readonly qos: 0 | 1;
}

/**
 * What the control plane subscribes to: every device-to-cloud kind for all devices. On MQTT 5 with a share group,
 * high-volume kinds (telemetry, events, job updates) are shared so replicas split them; birth and state stay
 * plain so every replica receives the retained snapshot.
 */
export function controlPlaneSubscriptions(
  topics: TopicScheme,
  connection: { readonly protocolVersion: MqttProtocolVersion; readonly shareGroup?: string },
): Subscription[] {
  return MESSAGE_KINDS.filter((kind) => KIND_DELIVERY[kind].direction === 'device-to-cloud').map((kind) => ({
    kind,
    topic: subscriptionTopicFor(kind, topics.filterFor(kind), connection),
    qos: KIND_DELIVERY[kind].qos,
  }));
}

/**
 * What a device subscribes to: its cloud-to-device kinds, plus its own `state` topic so it notices a stale last
 * will overwriting its retained `online` state and can publish `online` again.
 */
export function deviceSubscriptions(topics: TopicScheme, deviceId: string): Subscription[] {
  return MESSAGE_KINDS.filter(
    (kind) => KIND_DELIVERY[kind].direction === 'cloud-to-device' || kind === 'state',
  ).map((kind) => ({ kind, topic: topics.filterFor(kind, deviceId), qos: 1 }));
}
