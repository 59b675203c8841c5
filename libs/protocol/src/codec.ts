import { acceptWithoutSchema } from './fast-validation';
import { KIND_DELIVERY, type MessageKind } from './message-kinds';
import { MESSAGE_SCHEMAS, type MessageOf } from './message-schemas';
import { formatIssues } from './issues';
import { TopicScheme } from './topics';
import { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './version';

/** Why a received message was rejected. */
export const REJECTION_REASONS = [
  'unknown-topic',
  'invalid-identifier',
  'empty-payload',
  'payload-too-large',
  'invalid-json',
  'missing-version',
  'unsupported-version',
  'schema-violation',
  'topic-mismatch',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];

export type DecodeResult =
  | {
      [K in MessageKind]: {
        readonly ok: true;
        readonly kind: K;
        readonly deviceId: string;
        /** Set for job-scoped kinds. */
        readonly jobId?: string;
        readonly message: MessageOf<K>;
      };
    }[MessageKind]
  | {
      readonly ok: false;
      readonly reason: RejectionReason;
      /** What exactly is wrong, naming the bad field's path for schema violations. */
      readonly detail: string;
      readonly kind?: MessageKind;
      readonly deviceId?: string;
    };

export type DecodeRejection = Extract<DecodeResult, { ok: false }>;

export interface DecodeOptions {
  /** The deployment's topics; default prefix `emofleet/v1`. */
  readonly topics?: TopicScheme;
  /** Payload limits replacing the per-kind defaults of `KIND_DELIVERY`. */
  readonly maxPayloadBytes?: Partial<Record<MessageKind, number>>;
}

const defaultTopics = new TopicScheme();

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decodes and validates one received MQTT message. Never throws: any topic and any bytes give either the typed
 * message or a rejection with a reason (for counting) and a detail (for logs).
 */
export function decodeMessage(
  topic: string,
  payload: Buffer | Uint8Array,
  options: DecodeOptions = {},
): DecodeResult {
  const address = (options.topics ?? defaultTopics).parse(topic);
  if (!address.ok) return { ok: false, reason: address.reason, detail: address.detail };
  const { kind, deviceId } = address;
  const reject = (reason: RejectionReason, detail: string): DecodeResult => ({
    ok: false,
    reason,
    detail,
    kind,
    deviceId,
  });

  if (payload.length === 0) {
    return reject('empty-payload', 'zero-length payload (a retained message being cleared)');
  }
  const limit = options.maxPayloadBytes?.[kind] ?? KIND_DELIVERY[kind].maxPayloadBytes;
  if (payload.length > limit) {
    return reject(
      'payload-too-large',
      `payload is ${payload.length} bytes, the limit for ${kind} is ${limit}`,
    );
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(payload));
  } catch (error) {
    return reject('invalid-json', error instanceof Error ? error.message : String(error));
  }
  if (!isPlainObject(parsed)) {
    return reject('schema-violation', `(message): expected a JSON object, got ${describeJsonValue(parsed)}`);
  }
  if (!('v' in parsed)) return reject('missing-version', 'the message has no protocol version field "v"');
  if (typeof parsed.v !== 'number' || !SUPPORTED_PROTOCOL_VERSIONS.includes(parsed.v)) {
    return reject(
      'unsupported-version',
      `protocol version ${truncate(JSON.stringify(parsed.v) ?? String(parsed.v), 40)} is not supported (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
    );
  }

  // Telemetry and event batches, the bulk of the traffic, are checked by hand first; the schema decides the rest.
  let message: MessageOf<MessageKind> | undefined = acceptWithoutSchema(kind, parsed);
  if (message === undefined) {
    const validated = MESSAGE_SCHEMAS[kind].safeParse(parsed);
    if (!validated.success) return reject('schema-violation', formatIssues(validated.error.issues));
    message = validated.data;
  }

  if (message.deviceId !== deviceId) {
    return reject('topic-mismatch', `deviceId "${message.deviceId}" differs from the topic's "${deviceId}"`);
  }
  if ('jobId' in message && address.jobId !== undefined && message.jobId !== address.jobId) {
    return reject('topic-mismatch', `jobId "${message.jobId}" differs from the topic's "${address.jobId}"`);
  }
  const jobScope = address.jobId === undefined ? {} : { jobId: address.jobId };
  return { ok: true, kind, deviceId, ...jobScope, message } as DecodeResult;
}

function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength)}…`;
}

function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Thrown by `encodeMessage` when a message does not satisfy its schema or exceeds the size limit. */
export class ProtocolEncodeError extends Error {
  override readonly name = 'ProtocolEncodeError';

  constructor(
    readonly kind: MessageKind,
    readonly detail: string,
  ) {
    super(`Cannot encode ${kind} message: ${detail}`);
  }
}

/**
 * Validates a message and serialises it to the payload bytes. Senders call this so that nothing invalid ever
 * reaches the broker; the thrown `ProtocolEncodeError` names every bad field.
 */
export function encodeMessage<K extends MessageKind>(kind: K, message: MessageOf<K>): Buffer {
  if ((message as { v?: unknown }).v !== PROTOCOL_VERSION) {
    throw new ProtocolEncodeError(kind, `v must be ${PROTOCOL_VERSION}`);
  }
  const validated = MESSAGE_SCHEMAS[kind].safeParse(message);
  if (!validated.success) throw new ProtocolEncodeError(kind, formatIssues(validated.error.issues));
  const payload = Buffer.from(JSON.stringify(validated.data), 'utf8');
  const limit = KIND_DELIVERY[kind].maxPayloadBytes;
  if (payload.length > limit) {
    throw new ProtocolEncodeError(kind, `payload is ${payload.length} bytes, the limit is ${limit}`);
  }
  return payload;
}
