import { decodeMessage, parseJobDocument, TopicScheme } from '../src';
import { addressOf, validJson, withField } from './fixtures';

describe('parseJobDocument', () => {
  it('types the parameters of known operations', () => {
    expect(parseJobDocument({ operation: 'apply-desired-state', parameters: { desiredVersion: 3 } })).toEqual(
      {
        ok: true,
        document: { operation: 'apply-desired-state', parameters: { desiredVersion: 3 } },
      },
    );
    expect(parseJobDocument({ operation: 'rollback', parameters: {} }).ok).toBe(true);
  });

  it('names an unsupported operation so the device can answer REJECTED', () => {
    expect(parseJobDocument({ operation: 'format-disk', parameters: {} })).toEqual({
      ok: false,
      reason: 'unsupported-operation',
      detail: 'operation "format-disk" is not one of apply-desired-state, rollback, evaluate, build-engine',
    });
  });

  it('does not mistake inherited object properties for operations', () => {
    expect(parseJobDocument({ operation: 'constructor', parameters: {} })).toMatchObject({
      reason: 'unsupported-operation',
    });
  });

  it('names the bad parameter', () => {
    expect(
      parseJobDocument({ operation: 'apply-desired-state', parameters: { desiredVersion: -1 } }),
    ).toMatchObject({
      ok: false,
      reason: 'invalid-parameters',
      detail: expect.stringContaining('parameters.desiredVersion:'),
    });
  });

  it('does not let a "__proto__" key smuggle parameters in', () => {
    const json = JSON.stringify(
      withField(validJson('job-notify-next'), ['execution', 'document', 'parameters'], {}),
    ).replace('"parameters":{}', '"parameters":{"__proto__":{"desiredVersion":5}}');
    expect(json).toContain('"parameters":{"__proto__":{"desiredVersion":5}}');
    const topics = new TopicScheme();
    const decoded = decodeMessage(topics.topicFor(addressOf('job-notify-next')), Buffer.from(json), {
      topics,
    });
    if (!decoded.ok || decoded.kind !== 'job-notify-next')
      throw new Error(`not decoded: ${JSON.stringify(decoded)}`);
    const document = decoded.message.execution?.document;
    expect(document && parseJobDocument(document)).toMatchObject({
      ok: false,
      reason: 'invalid-parameters',
      detail: expect.stringContaining('parameters.desiredVersion:'),
    });
  });
});
