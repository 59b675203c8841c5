import {
  assertValidDeviceId,
  DEFAULT_TOPIC_PREFIX,
  isValidDeviceId,
  MESSAGE_KINDS,
  parseTopic,
  TopicScheme,
  topicPrefixProblem,
} from '../src';
import { addressOf, DEVICE_ID, JOB_ID } from './fixtures';

describe('TopicScheme', () => {
  const topics = new TopicScheme('site-a/emofleet/v1');

  it.each([
    ['birth', 'birth'],
    ['state', 'state'],
    ['desired', 'desired'],
    ['job-notify-next', 'jobs/notify-next'],
    ['job-update', `jobs/${JOB_ID}/update`],
    ['job-update-response', `jobs/${JOB_ID}/update/response`],
    ['telemetry', 'telemetry'],
    ['events', 'events'],
    ['events-ack', 'events/ack'],
  ] as const)('puts %s under <prefix>/devices/<id>/%s', (kind, suffix) => {
    expect(topics.topicFor(addressOf(kind))).toBe(`site-a/emofleet/v1/devices/${DEVICE_ID}/${suffix}`);
  });

  it.each(MESSAGE_KINDS)('parses the %s topic back to its kind, device and job', (kind) => {
    const address = addressOf(kind);
    expect(topics.parse(topics.topicFor(address))).toEqual({ ok: true, ...address });
  });

  it('builds wildcard filters for all devices and for one device', () => {
    expect(topics.filterFor('telemetry')).toBe('site-a/emofleet/v1/devices/+/telemetry');
    expect(topics.filterFor('job-update')).toBe('site-a/emofleet/v1/devices/+/jobs/+/update');
    expect(topics.filterFor('job-update-response', DEVICE_ID)).toBe(
      `site-a/emofleet/v1/devices/${DEVICE_ID}/jobs/+/update/response`,
    );
  });

  it('refuses to build a topic for an invalid device or job id', () => {
    expect(() => topics.topicFor({ kind: 'state', deviceId: 'a/b' })).toThrow(RangeError);
    expect(() => topics.topicFor({ kind: 'job-update', deviceId: DEVICE_ID, jobId: '#' })).toThrow(
      /Job id "#"/,
    );
    expect(() => topics.filterFor('events', '+')).toThrow(/Device id "\+"/);
  });

  it.each([
    ['emofleet/v2/devices/d1/birth', 'unknown-topic'],
    ['site-a/emofleet/v1/devices/d1', 'unknown-topic'],
    ['site-a/emofleet/v1/devices/d1/', 'unknown-topic'],
    ['site-a/emofleet/v1/devices/d1/jobs/j1', 'unknown-topic'],
    ['site-a/emofleet/v1/devices/d1/events/ack/extra', 'unknown-topic'],
    ['site-a/emofleet/v1/devices//birth', 'invalid-identifier'],
    ['site-a/emofleet/v1/devices/+/birth', 'invalid-identifier'],
    ['site-a/emofleet/v1/devices/d1/jobs/+/update', 'invalid-identifier'],
    ['site-a/emofleet/v1/devices/d1/jobs//update/response', 'invalid-identifier'],
  ])('rejects %s as %s', (topic, reason) => {
    expect(topics.parse(topic)).toMatchObject({ ok: false, reason });
  });

  it.each([
    ['', 'is empty'],
    ['/emofleet', 'empty topic level'],
    ['emofleet/', 'empty topic level'],
    ['a//b', 'empty topic level'],
    ['$SYS/emofleet', 'starts with "$"'],
    ['emofleet/+', 'wildcard'],
    ['emofleet/#', 'wildcard'],
    ['emo\u0000fleet', 'NUL'],
  ])('refuses the topic prefix %j', (prefix, problem) => {
    expect(topicPrefixProblem(prefix)).toContain(problem);
    expect(() => new TopicScheme(prefix)).toThrow(RangeError);
  });

  it('defaults to the emofleet/v1 prefix', () => {
    expect(DEFAULT_TOPIC_PREFIX).toBe('emofleet/v1');
    expect(parseTopic(`emofleet/v1/devices/${DEVICE_ID}/events/ack`)).toEqual({
      ok: true,
      kind: 'events-ack',
      deviceId: DEVICE_ID,
    });
  });
});

describe('device ids', () => {
  it.each(['d', 'jetson-tx1-0042', 'site.a:cam_01', 'A'.repeat(64), '0abc'])('accepts %j', (id) => {
    expect(isValidDeviceId(id)).toBe(true);
  });

  it.each([
    ['', 'is empty'],
    ['a+b', 'may contain only'],
    ['a#', 'may contain only'],
    ['a/b', 'may contain only'],
    ['$SYS', 'may contain only'],
    ['-leading-dash', 'must start with a letter or digit'],
    ['with space', 'may contain only'],
    ['nul\u0000', 'may contain only'],
    ['ü', 'may contain only'],
    ['A'.repeat(65), '65 characters long (at most 64)'],
  ])('refuses %j', (id, problem) => {
    expect(isValidDeviceId(id)).toBe(false);
    expect(() => assertValidDeviceId(id)).toThrow(problem);
  });
});
