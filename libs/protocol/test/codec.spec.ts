import {
  decodeMessage,
  encodeMessage,
  KIND_DELIVERY,
  MESSAGE_KINDS,
  ProtocolEncodeError,
  TopicScheme,
  type MessageKind,
  type MessageOf,
  type RejectionReason,
} from '../src';
import {
  addressOf,
  defined,
  DELETE,
  DEVICE_ID,
  JOB_ID,
  VALID_MESSAGES,
  validJson,
  withField,
} from './fixtures';

const topics = new TopicScheme('test/protocol');
const topicOf = (kind: MessageKind, deviceId = DEVICE_ID) => topics.topicFor(addressOf(kind, deviceId));
const decode = (kind: MessageKind, payload: Buffer | string) =>
  decodeMessage(topicOf(kind), typeof payload === 'string' ? Buffer.from(payload) : payload, { topics });
const decodeJson = (kind: MessageKind, json: unknown) => decode(kind, JSON.stringify(json));

function expectRejected(result: ReturnType<typeof decode>, reason: RejectionReason, detail?: string) {
  expect(result).toMatchObject({ ok: false, reason });
  if (!result.ok && detail !== undefined) expect(result.detail).toContain(detail);
}

describe('decodeMessage: valid messages', () => {
  it.each(MESSAGE_KINDS)('decodes a valid %s message with its kind and device', (kind) => {
    const result = decodeJson(kind, VALID_MESSAGES[kind]);
    const jobScope = kind === 'job-update' || kind === 'job-update-response' ? { jobId: JOB_ID } : {};
    expect(result).toStrictEqual({
      ok: true,
      kind,
      deviceId: DEVICE_ID,
      ...jobScope,
      message: VALID_MESSAGES[kind],
    });
  });

  it('ignores fields it does not know (additive changes keep the protocol version)', () => {
    const result = decodeJson('state', { ...VALID_MESSAGES.state, batteryPercent: 80 });
    expect(result.ok && result.message).toEqual(VALID_MESSAGES.state);
  });

  it('accepts an event batch that only declares lost sequence numbers', () => {
    const result = decodeJson('events', {
      v: 1,
      deviceId: DEVICE_ID,
      events: [],
      lost: [{ fromSeq: 1, toSeq: 9 }],
    });
    expect(result.ok).toBe(true);
  });

  it('accepts a desired state of "no model"', () => {
    const result = decodeJson('desired', { ...VALID_MESSAGES.desired, model: null, healthCheck: null });
    expect(result.ok).toBe(true);
  });
});

describe.each(MESSAGE_KINDS)('decodeMessage: malformed %s payloads', (kind) => {
  const valid = validJson(kind);
  const limit = KIND_DELIVERY[kind].maxPayloadBytes;

  it.each<[string, Buffer | string, RejectionReason, string]>([
    ['an empty payload', '', 'empty-payload', 'zero-length'],
    [
      'a payload over the limit',
      Buffer.alloc(limit + 1, 0x20),
      'payload-too-large',
      `limit for ${kind} is ${limit}`,
    ],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'invalid-json', ''],
    ['truncated JSON', JSON.stringify(valid).slice(0, -3), 'invalid-json', ''],
    ['a JSON array', '[1,2,3]', 'schema-violation', 'expected a JSON object, got an array'],
    ['a JSON string', '"hello"', 'schema-violation', 'got a string'],
    ['JSON null', 'null', 'schema-violation', 'got null'],
    ['no version', JSON.stringify(withField(valid, ['v'], DELETE)), 'missing-version', '"v"'],
    [
      'version 2',
      JSON.stringify(withField(valid, ['v'], 2)),
      'unsupported-version',
      'version 2 is not supported',
    ],
    ['version "1" as a string', JSON.stringify(withField(valid, ['v'], '1')), 'unsupported-version', '"1"'],
    [
      'a huge version',
      JSON.stringify(withField(valid, ['v'], 'x'.repeat(200))),
      'unsupported-version',
      'xxx…',
    ],
    [
      'another device id',
      JSON.stringify(withField(valid, ['deviceId'], 'other-device')),
      'topic-mismatch',
      'other-device',
    ],
    [
      'an invalid device id',
      JSON.stringify(withField(valid, ['deviceId'], 'a/b')),
      'schema-violation',
      'deviceId:',
    ],
  ])('rejects %s', (_name, payload, reason, detail) => {
    const result = decode(kind, payload);
    expectRejected(result, reason, detail);
    expect(result).toMatchObject({ kind, deviceId: DEVICE_ID });
  });

  const requiredFields = Object.keys(valid).filter((field) => field !== 'v');
  it.each(requiredFields)('rejects a message without "%s", naming the field', (field) => {
    expectRejected(decodeJson(kind, withField(valid, [field], DELETE)), 'schema-violation', `${field}:`);
  });

  it.each(requiredFields)('rejects a message whose "%s" has the wrong type, naming the field', (field) => {
    const wrong = typeof valid[field] === 'string' ? 42 : 'wrong';
    expectRejected(decodeJson(kind, withField(valid, [field], wrong)), 'schema-violation', `${field}:`);
  });
});

/** Kind-specific violations: [kind, description, path, bad value, text the detail must contain]. */
const fieldViolations: [MessageKind, string, (string | number)[], unknown, string][] = [
  ['birth', 'a negative bdSeq', ['bdSeq'], -1, 'bdSeq:'],
  ['birth', 'zero CPU cores', ['capabilities', 'cpuCores'], 0, 'capabilities.cpuCores:'],
  [
    'birth',
    'a bad backend name',
    ['capabilities', 'detectorBackends', 0],
    'TensorRT!',
    'capabilities.detectorBackends[0]:',
  ],
  ['birth', 'no simulated flag', ['capabilities', 'simulated'], DELETE, 'capabilities.simulated:'],
  [
    'birth',
    'a version with spaces',
    ['capabilities', 'jetpackVersion'],
    '4 6',
    'capabilities.jetpackVersion:',
  ],
  ['state', 'an unknown state', ['state'], 'sleeping', 'state:'],
  ['state', 'a fractional bdSeq', ['bdSeq'], 1.5, 'bdSeq:'],
  ['desired', 'an upper-case sha256', ['model', 'sha256'], 'A'.repeat(64), 'model.sha256:'],
  ['desired', 'a short signature', ['model', 'signature'], 'c2ln', 'model.signature:'],
  ['desired', 'an ftp artifact URL', ['model', 'artifactUrl'], 'ftp://host/file', 'model.artifactUrl:'],
  ['desired', 'an unparsable artifact URL', ['model', 'artifactUrl'], 'http://[::1', 'model.artifactUrl:'],
  ['desired', 'a zero size', ['model', 'sizeBytes'], 0, 'model.sizeBytes:'],
  ['desired', 'an unknown model format', ['model', 'format'], 'pytorch', 'model.format:'],
  ['desired', 'an accuracy floor above 1', ['healthCheck', 'minAccuracy'], 1.5, 'healthCheck.minAccuracy:'],
  ['job-notify-next', 'a terminal status', ['execution', 'status'], 'SUCCEEDED', 'execution.status:'],
  [
    'job-notify-next',
    'a bad operation name',
    ['execution', 'document', 'operation'],
    'Install Model',
    'execution.document.operation:',
  ],
  ['job-notify-next', 'a job id with a wildcard', ['execution', 'jobId'], 'a+b', 'execution.jobId:'],
  [
    'job-notify-next',
    'non-object parameters',
    ['execution', 'document', 'parameters'],
    [1],
    'execution.document.parameters:',
  ],
  ['job-update', 'a status only the control plane sets', ['status'], 'QUEUED', 'status:'],
  ['job-update', 'an unknown step', ['statusDetails', 'step'], 'FLASHING', 'statusDetails.step:'],
  ['job-update', 'a negative expected version', ['expectedVersion'], -1, 'expectedVersion:'],
  [
    'job-update',
    'an accuracy above 1',
    ['statusDetails', 'measuredAccuracy'],
    2,
    'statusDetails.measuredAccuracy:',
  ],
  ['job-update', 'a 2 kB reason', ['statusDetails', 'reason'], 'x'.repeat(2000), 'statusDetails.reason:'],
  ['job-update-response', 'a rejection without reason', ['accepted'], false, 'rejection:'],
  ['job-update-response', 'an unknown status', ['status'], 'DONE', 'status:'],
  ['telemetry', 'percentiles out of order', ['latencyMs', 'p50'], 500, 'latencyMs:'],
  ['telemetry', 'negative fps', ['fps'], -1, 'fps:'],
  ['telemetry', 'a textual temperature', ['temperaturesC', 'CPU-therm'], 'hot', 'temperaturesC.CPU-therm:'],
  ['telemetry', 'a negative spool depth', ['spool', 'depth'], -1, 'spool.depth:'],
  ['telemetry', 'accuracy above 1', ['accuracy'], 1.01, 'accuracy:'],
  ['events', 'a repeated seq', ['events', 1, 'seq'], 41, 'events[1].seq: seq 41 does not follow 41'],
  ['events', 'a seq of 0', ['events', 0, 'seq'], 0, 'events[0].seq:'],
  ['events', 'a score above 1', ['events', 0, 'score'], 1.5, 'events[0].score:'],
  ['events', 'a box leaving the frame', ['events', 0, 'box', 'width'], 0.95, 'events[0].box:'],
  ['events', 'an empty label', ['events', 1, 'label'], '', 'events[1].label:'],
  ['events', 'no events and no lost ranges', ['events'], [], 'events: batch carries neither'],
  ['events', 'an inverted lost range', ['lost'], [{ fromSeq: 9, toSeq: 2 }], 'lost[0]:'],
  ['events-ack', 'a negative seq', ['highestContiguousSeq'], -1, 'highestContiguousSeq:'],
  ['events-ack', 'a textual seq', ['highestContiguousSeq'], '42', 'highestContiguousSeq:'],
];

describe('decodeMessage: field violations name the path of the bad field', () => {
  it.each(fieldViolations)('%s with %s', (kind, _name, path, value, detail) => {
    expectRejected(decodeJson(kind, withField(validJson(kind), path, value)), 'schema-violation', detail);
  });

  it('rejects an event batch larger than the per-batch maximum', () => {
    const event = defined(VALID_MESSAGES.events.events[0], 'events');
    const events = Array.from({ length: 501 }, (_, index) => ({ ...event, seq: index + 1 }));
    expectRejected(decodeJson('events', { ...VALID_MESSAGES.events, events }), 'schema-violation', 'events:');
  });

  it('rejects a job update whose jobId differs from the topic', () => {
    const json = withField(validJson('job-update'), ['jobId'], 'another-job');
    expectRejected(decodeJson('job-update', json), 'topic-mismatch', 'another-job');
  });

  it('lists at most five problems and counts the rest', () => {
    const result = decodeJson('telemetry', { v: 1 });
    expectRejected(result, 'schema-violation', 'and ');
    expect(!result.ok && result.detail.split('; ')).toHaveLength(6);
  });
});

describe('decodeMessage: topics', () => {
  it('rejects a topic outside the prefix without a kind', () => {
    expect(decodeMessage('other/devices/x/birth', Buffer.from('{}'), { topics })).toEqual({
      ok: false,
      reason: 'unknown-topic',
      detail: 'topic is not under "test/protocol/devices/"',
    });
  });

  it('rejects an unknown message kind under the prefix', () => {
    expectRejected(
      decodeMessage('test/protocol/devices/x/firmware', Buffer.from('{}'), { topics }),
      'unknown-topic',
    );
  });

  it('rejects a device id that is not valid in the topic', () => {
    const topic = `test/protocol/devices/${'d'.repeat(65)}/state`;
    expectRejected(
      decodeMessage(topic, Buffer.from('{}'), { topics }),
      'invalid-identifier',
      '65 characters',
    );
  });

  it('uses the default prefix emofleet/v1 when no topic scheme is given', () => {
    const topic = new TopicScheme().topicFor({ kind: 'state', deviceId: DEVICE_ID });
    expect(decodeMessage(topic, encodeMessage('state', VALID_MESSAGES.state)).ok).toBe(true);
  });

  it('honours a smaller payload limit from the options', () => {
    const payload = encodeMessage('state', VALID_MESSAGES.state);
    const result = decodeMessage(topicOf('state'), payload, { topics, maxPayloadBytes: { state: 10 } });
    expectRejected(result, 'payload-too-large', 'limit for state is 10');
  });
});

describe('encodeMessage', () => {
  it.each(MESSAGE_KINDS)('round-trips a valid %s message through decodeMessage', (kind) => {
    const result = decodeMessage(topicOf(kind), encodeMessage(kind, VALID_MESSAGES[kind]), { topics });
    expect(result.ok && result.message).toEqual(VALID_MESSAGES[kind]);
  });

  it('refuses an invalid message, naming the bad field', () => {
    const bad = { ...VALID_MESSAGES.telemetry, fps: Number.NaN };
    expect(() => encodeMessage('telemetry', bad)).toThrow(ProtocolEncodeError);
    expect(() => encodeMessage('telemetry', bad)).toThrow(/^Cannot encode telemetry message: fps:/);
  });

  it('refuses a message of another protocol version', () => {
    const bad = { ...VALID_MESSAGES.state, v: 2 } as unknown as MessageOf<'state'>;
    expect(() => encodeMessage('state', bad)).toThrow('v must be 1');
  });

  it('refuses a message larger than the kind allows', () => {
    const execution = defined(VALID_MESSAGES['job-notify-next'].execution, 'execution');
    const message = {
      ...VALID_MESSAGES['job-notify-next'],
      execution: {
        ...execution,
        document: { operation: 'evaluate', parameters: { note: 'x'.repeat(70_000) } },
      },
    };
    expect(() => encodeMessage('job-notify-next', message)).toThrow(
      /payload is \d+ bytes, the limit is 65536/,
    );
  });

  it('fits the largest schema-valid birth and telemetry, and a full batch of events, within their limits', () => {
    const birth = {
      ...VALID_MESSAGES.birth,
      capabilities: {
        ...VALID_MESSAGES.birth.capabilities,
        detectorBackends: Array.from({ length: 32 }, (_, i) => `backend-${i}`.padEnd(32, 'x')),
        jetsonModel: 'j'.repeat(128),
      },
    };
    expect(encodeMessage('birth', birth).length).toBeLessThan(KIND_DELIVERY.birth.maxPayloadBytes);
    const temperaturesC: Record<string, number> = {};
    for (let zone = 0; zone < 32; zone += 1) temperaturesC[`zone-${zone}`.padEnd(64, 'z')] = -99.123456789;
    const telemetry = { ...VALID_MESSAGES.telemetry, temperaturesC };
    expect(encodeMessage('telemetry', telemetry).length).toBeLessThan(
      KIND_DELIVERY.telemetry.maxPayloadBytes,
    );
    const event = defined(VALID_MESSAGES.events.events[0], 'events');
    const events = Array.from({ length: 500 }, (_, index) => ({
      ...event,
      seq: 1_000_000_000 + index,
      label: 'l'.repeat(32),
      modelId: 'm'.repeat(64),
      score: 0.123456789,
    }));
    const batch = encodeMessage('events', { ...VALID_MESSAGES.events, events });
    expect(batch.length).toBeLessThan(KIND_DELIVERY.events.maxPayloadBytes);
  });
});
