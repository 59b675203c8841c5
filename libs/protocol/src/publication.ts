import { encodeMessage } from './codec';
import { KIND_DELIVERY, type MessageKind } from './message-kinds';
import { type MessageOf } from './message-schemas';
import { publishPropertiesFor, type MqttProtocolVersion } from './mqtt5';
import { type TopicAddress, type TopicScheme } from './topics';

/** Everything an MQTT client needs to publish one message: topic, validated payload and delivery options. */
export interface Publication {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  /** MQTT 5 properties; empty for MQTT 3.1.1. */
  readonly properties: { messageExpiryInterval?: number };
}

/** Publications are addressed by the message: the device id (and job id) come from the message itself. */
export function buildPublication<K extends MessageKind>(
  topics: TopicScheme,
  kind: K,
  message: MessageOf<K>,
  protocolVersion: MqttProtocolVersion,
): Publication {
  const payload = encodeMessage(kind, message);
  const address = { kind, deviceId: message.deviceId, jobId: 'jobId' in message ? message.jobId : undefined };
  const delivery = KIND_DELIVERY[kind];
  return {
    topic: topics.topicFor(address as TopicAddress),
    payload,
    qos: delivery.qos,
    retain: delivery.retain,
    properties: publishPropertiesFor(kind, protocolVersion),
  };
}

/** Clearing a retained topic: an empty retained payload (e.g. when a device is deleted). */
export function retainedClearPublication(topic: string): Publication {
  return { topic, payload: Buffer.alloc(0), qos: 1, retain: true, properties: {} };
}
