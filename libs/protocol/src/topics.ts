import { identifierProblem, assertValidDeviceId, assertValidJobId } from './identifiers';
import {
  isJobScopedKind,
  type DeviceScopedKind,
  type JobScopedKind,
  type MessageKind,
} from './message-kinds';

export const DEFAULT_TOPIC_PREFIX = 'emofleet/v1';

/** A topic, named by what it carries. Job-scoped kinds need the job id too. */
export type TopicAddress =
  | { readonly kind: DeviceScopedKind; readonly deviceId: string }
  | { readonly kind: JobScopedKind; readonly deviceId: string; readonly jobId: string };

export type TopicParseResult =
  | { readonly ok: true; readonly kind: MessageKind; readonly deviceId: string; readonly jobId?: string }
  | { readonly ok: false; readonly reason: 'unknown-topic' | 'invalid-identifier'; readonly detail: string };

/** Topic levels after `<prefix>/devices/<deviceId>/`; `{jobId}` marks the job id level. */
const KIND_LEVELS: Readonly<Record<MessageKind, readonly string[]>> = {
  birth: ['birth'],
  state: ['state'],
  desired: ['desired'],
  'job-notify-next': ['jobs', 'notify-next'],
  'job-update': ['jobs', '{jobId}', 'update'],
  'job-update-response': ['jobs', '{jobId}', 'update', 'response'],
  telemetry: ['telemetry'],
  events: ['events'],
  'events-ack': ['events', 'ack'],
};

const JOB_ID_LEVEL = '{jobId}';

/** Why `prefix` cannot be a topic prefix, or `undefined` when it can. */
export function topicPrefixProblem(prefix: string): string | undefined {
  if (prefix.length === 0) return 'is empty';
  if (prefix.length > 128) return 'is longer than 128 characters';
  if (prefix.startsWith('$')) return 'starts with "$", which brokers reserve for their own topics';
  if (/[+#]/.test(prefix) || prefix.includes('\u0000'))
    return 'contains an MQTT wildcard ("+" or "#") or NUL';
  if (prefix.split('/').some((level) => level.length === 0)) {
    return 'has an empty topic level (leading, trailing or doubled "/")';
  }
  return undefined;
}

/**
 * Builds and parses the topics of one deployment. All topics live under `<prefix>/devices/<deviceId>/`, so one
 * broker ACL pattern per kind confines a device (username = device id) to its own topics.
 */
export class TopicScheme {
  private readonly devicesRoot: string;

  constructor(readonly prefix: string = DEFAULT_TOPIC_PREFIX) {
    const problem = topicPrefixProblem(prefix);
    if (problem !== undefined) throw new RangeError(`Topic prefix ${JSON.stringify(prefix)} ${problem}`);
    this.devicesRoot = `${prefix}/devices/`;
  }

  topicFor(address: TopicAddress): string {
    assertValidDeviceId(address.deviceId);
    const jobId = 'jobId' in address ? address.jobId : undefined;
    if (isJobScopedKind(address.kind)) {
      if (jobId === undefined) throw new RangeError(`A ${address.kind} topic needs a job id`);
      assertValidJobId(jobId);
    }
    const levels = KIND_LEVELS[address.kind].map((level) => (level === JOB_ID_LEVEL ? (jobId ?? '') : level));
    return `${this.devicesRoot}${address.deviceId}/${levels.join('/')}`;
  }

  /**
   * A subscription filter for `kind`: for one device, or with `+` in place of the device id for every device.
   * Job-scoped kinds always match every job (`+`).
   */
  filterFor(kind: MessageKind, deviceId?: string): string {
    if (deviceId !== undefined) assertValidDeviceId(deviceId);
    const levels = KIND_LEVELS[kind].map((level) => (level === JOB_ID_LEVEL ? '+' : level));
    return `${this.devicesRoot}${deviceId ?? '+'}/${levels.join('/')}`;
  }

  /** Which kind, device and job a topic addresses; never throws. */
  parse(topic: string): TopicParseResult {
    if (!topic.startsWith(this.devicesRoot)) {
      return { ok: false, reason: 'unknown-topic', detail: `topic is not under "${this.devicesRoot}"` };
    }
    const [deviceId, ...rest] = topic.slice(this.devicesRoot.length).split('/');
    const kind = matchKind(rest);
    if (deviceId === undefined || kind === undefined) {
      return { ok: false, reason: 'unknown-topic', detail: `no message kind has topic "${topic}"` };
    }
    const deviceProblem = identifierProblem(deviceId);
    if (deviceProblem !== undefined) {
      return { ok: false, reason: 'invalid-identifier', detail: `device id in topic ${deviceProblem}` };
    }
    if (!isJobScopedKind(kind)) return { ok: true, kind, deviceId };
    const jobId = rest[KIND_LEVELS[kind].indexOf(JOB_ID_LEVEL)] ?? '';
    const jobProblem = identifierProblem(jobId);
    if (jobProblem !== undefined) {
      return { ok: false, reason: 'invalid-identifier', detail: `job id in topic ${jobProblem}` };
    }
    return { ok: true, kind, deviceId, jobId };
  }
}

function matchKind(levels: readonly string[]): MessageKind | undefined {
  for (const [kind, pattern] of Object.entries(KIND_LEVELS) as [MessageKind, readonly string[]][]) {
    if (
      pattern.length === levels.length &&
      pattern.every((level, index) => level === JOB_ID_LEVEL || level === levels[index])
    ) {
      return kind;
    }
  }
  return undefined;
}

/** Parses `topic` under the given prefix (default `emofleet/v1`); never throws for any topic string. */
export function parseTopic(topic: string, prefix: string = DEFAULT_TOPIC_PREFIX): TopicParseResult {
  return new TopicScheme(prefix).parse(topic);
}
