/** Every message kind of the device protocol; the topic of a message determines its kind. */
export const MESSAGE_KINDS = [
  'birth',
  'state',
  'desired',
  'job-notify-next',
  'job-update',
  'job-update-response',
  'telemetry',
  'events',
  'events-ack',
] as const;

export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Kinds whose topic carries a job id as well as a device id. */
export type JobScopedKind = 'job-update' | 'job-update-response';

export type DeviceScopedKind = Exclude<MessageKind, JobScopedKind>;

export type Direction = 'device-to-cloud' | 'cloud-to-device';

/** How a kind travels: who publishes it, and with which MQTT delivery options. */
export interface KindDelivery {
  readonly direction: Direction;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  /** MQTT 5 message expiry; on MQTT 3.1.1 messages never expire. */
  readonly messageExpirySeconds?: number;
  /** Larger payloads are rejected by `decodeMessage` and refused by `encodeMessage`. */
  readonly maxPayloadBytes: number;
  /**
   * Whether several control-plane replicas may split this kind through an MQTT 5 shared subscription. Retained
   * kinds are not shared: a broker never delivers retained messages to a shared subscription, and every replica
   * needs the retained snapshot when it starts.
   */
  readonly shareable: boolean;
}

const KiB = 1024;

export const KIND_DELIVERY: Readonly<Record<MessageKind, KindDelivery>> = {
  birth: { direction: 'device-to-cloud', qos: 1, retain: true, maxPayloadBytes: 16 * KiB, shareable: false },
  state: { direction: 'device-to-cloud', qos: 1, retain: true, maxPayloadBytes: 1 * KiB, shareable: false },
  desired: {
    direction: 'cloud-to-device',
    qos: 1,
    retain: true,
    maxPayloadBytes: 16 * KiB,
    shareable: false,
  },
  'job-notify-next': {
    direction: 'cloud-to-device',
    qos: 1,
    retain: true,
    maxPayloadBytes: 64 * KiB,
    shareable: false,
  },
  'job-update': {
    direction: 'device-to-cloud',
    qos: 1,
    retain: false,
    maxPayloadBytes: 8 * KiB,
    shareable: true,
  },
  'job-update-response': {
    direction: 'cloud-to-device',
    qos: 1,
    retain: false,
    messageExpirySeconds: 300,
    maxPayloadBytes: 4 * KiB,
    shareable: false,
  },
  telemetry: {
    direction: 'device-to-cloud',
    qos: 0,
    retain: false,
    messageExpirySeconds: 60,
    maxPayloadBytes: 16 * KiB,
    shareable: true,
  },
  events: {
    direction: 'device-to-cloud',
    qos: 1,
    retain: false,
    maxPayloadBytes: 256 * KiB,
    shareable: true,
  },
  'events-ack': {
    direction: 'cloud-to-device',
    qos: 1,
    retain: true,
    maxPayloadBytes: 1 * KiB,
    shareable: false,
  },
};

export function isJobScopedKind(kind: MessageKind): kind is JobScopedKind {
  return kind === 'job-update' || kind === 'job-update-response';
}
