import fc from 'fast-check';
import { decodeMessage, MESSAGE_KINDS, MESSAGE_SCHEMAS, TopicScheme, type DecodeResult } from '../src';
import { addressOf, mutateAt, validJson } from './fixtures';

const topics = new TopicScheme('fuzz/emofleet/v1');
const kindArbitrary = fc.constantFrom(...MESSAGE_KINDS);
const RUNS = 300;

/** Decodes, failing the property if decodeMessage throws; a successful decode must satisfy the kind's schema. */
function decodeSafely(topic: string, payload: Uint8Array): DecodeResult {
  const result = decodeMessage(topic, Buffer.from(payload), { topics });
  if (result.ok) expect(MESSAGE_SCHEMAS[result.kind].safeParse(result.message).success).toBe(true);
  else expect(result.detail.length).toBeGreaterThan(0);
  return result;
}

describe('decodeMessage never throws', () => {
  it('for random bytes on every kind of topic', () => {
    fc.assert(
      fc.property(kindArbitrary, fc.uint8Array({ maxLength: 2048 }), (kind, bytes) => {
        expect(decodeSafely(topics.topicFor(addressOf(kind)), bytes).ok).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('for random topics', () => {
    const level = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('+', '#', '', 'devices', 'jobs', 'ack'),
    );
    fc.assert(
      fc.property(fc.array(level, { maxLength: 8 }), fc.string(), (levels, body) => {
        decodeSafely(['fuzz', 'emofleet', 'v1', ...levels].join('/'), Buffer.from(body));
      }),
      { numRuns: RUNS },
    );
  });

  it('for random JSON values', () => {
    fc.assert(
      fc.property(kindArbitrary, fc.jsonValue({ maxDepth: 6 }), (kind, value) => {
        decodeSafely(topics.topicFor(addressOf(kind)), Buffer.from(JSON.stringify(value)));
      }),
      { numRuns: RUNS },
    );
  });

  it('for valid messages with one field, at any depth, replaced by a random JSON value', () => {
    fc.assert(
      fc.property(
        kindArbitrary,
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        fc.jsonValue({ maxDepth: 3 }),
        (kind, path, replacement) => {
          const mutated = mutateAt(validJson(kind), path, replacement);
          decodeSafely(topics.topicFor(addressOf(kind)), Buffer.from(JSON.stringify(mutated)));
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('for deeply nested JSON', () => {
    const depth = 100_000;
    const payload = Buffer.from(`{"v":1,"deviceId":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    const kind = 'events';
    const result = decodeMessage(topics.topicFor(addressOf(kind)), payload, {
      topics,
      maxPayloadBytes: { events: payload.length },
    });
    expect(result).toMatchObject({ ok: false, reason: 'schema-violation' });
  });
});
