import { decodeMessage, encodeMessage, RejectionCounter, TopicScheme } from '../src';
import { addressOf, VALID_MESSAGES } from './fixtures';

describe('RejectionCounter', () => {
  const topics = new TopicScheme();
  const receive = (topic: string, payload: string | Buffer) =>
    decodeMessage(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, { topics });

  it('counts rejections by reason, by kind and by both, and ignores accepted messages', () => {
    const counter = new RejectionCounter();
    const eventsTopic = topics.topicFor(addressOf('events'));
    const stateTopic = topics.topicFor(addressOf('state'));
    expect(counter.record(receive(stateTopic, encodeMessage('state', VALID_MESSAGES.state)))).toBe(false);
    expect(counter.record(receive(eventsTopic, '{'))).toBe(true);
    counter.record(receive(eventsTopic, '{"v":9}'));
    counter.record(receive(stateTopic, '{"v":9}'));
    counter.record(receive('elsewhere/topic', '{}'));

    expect(counter.count()).toBe(4);
    expect(counter.count({ reason: 'unsupported-version' })).toBe(2);
    expect(counter.count({ kind: 'events' })).toBe(2);
    expect(counter.count({ kind: 'events', reason: 'invalid-json' })).toBe(1);
    expect(counter.snapshot()).toEqual({
      total: 4,
      byReason: { 'invalid-json': 1, 'unsupported-version': 2, 'unknown-topic': 1 },
      byKind: { events: 2, state: 1, unknown: 1 },
      byKindAndReason: {
        'events/invalid-json': 1,
        'events/unsupported-version': 1,
        'state/unsupported-version': 1,
        'unknown/unknown-topic': 1,
      },
    });

    counter.reset();
    expect(counter.snapshot()).toEqual({ total: 0, byReason: {}, byKind: {}, byKindAndReason: {} });
  });
});
