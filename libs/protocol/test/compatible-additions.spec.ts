import { decodeMessage, encodeMessage, TopicScheme, type MessageKind } from '../src';
import { addressOf, DELETE, validJson, withField } from './fixtures';

/**
 * Optional fields added after v1 shipped (docs/protocol.md "Versioning": compatible changes keep `v`): older
 * senders omit them and stay valid; newer senders' values are validated and kept.
 */
const topics = new TopicScheme();
const decode = (kind: MessageKind, json: Record<string, unknown>) =>
  decodeMessage(topics.topicFor(addressOf(kind)), Buffer.from(JSON.stringify(json)), { topics });

const rollback = {
  at: 1_764_000_100_000,
  model: { modelId: 'fer-yolov3-tiny', version: '4' },
  desiredVersion: 12,
  restoredModel: { modelId: 'fer-yolov3-tiny', version: '3' },
  reason: 'crash loop: 4 starts within the probation',
};

describe('optional fields added compatibly to v1', () => {
  it.each<[MessageKind, (string | number)[], unknown]>([
    ['job-update', ['statusDetails', 'measuredMap50'], 0.62],
    ['telemetry', ['map50'], 0.62],
    ['telemetry', ['map50'], null],
    ['birth', ['lastRollback'], rollback],
  ])('%s keeps %j = %j', (kind, path, value) => {
    const decoded = decode(kind, withField(validJson(kind), path, value));
    expect(decoded.ok).toBe(true);
    let node: unknown = decoded.ok ? decoded.message : undefined;
    for (const key of path) node = (node as Record<string | number, unknown>)[key];
    expect(node).toEqual(value);
  });

  it.each<[MessageKind, (string | number)[]]>([
    ['job-update', ['statusDetails', 'measuredMap50']],
    ['telemetry', ['map50']],
    ['birth', ['lastRollback']],
  ])('%s without %j (an older agent) still decodes and encodes', (kind, path) => {
    const json = withField(validJson(kind), path, DELETE);
    expect(decode(kind, json).ok).toBe(true);
    expect(() => encodeMessage(kind, json as never)).not.toThrow();
  });

  it.each<[MessageKind, (string | number)[], unknown, string]>([
    ['job-update', ['statusDetails', 'measuredMap50'], 1.2, 'statusDetails.measuredMap50:'],
    ['telemetry', ['map50'], -0.1, 'map50:'],
    ['birth', ['lastRollback'], { ...rollback, reason: '' }, 'lastRollback.reason:'],
    ['birth', ['lastRollback'], { ...rollback, desiredVersion: -1 }, 'lastRollback.desiredVersion:'],
    [
      'birth',
      ['lastRollback'],
      { ...rollback, restoredModel: { modelId: 'x' } },
      'lastRollback.restoredModel.version:',
    ],
  ])('%s rejects a bad %j, naming it', (kind, path, value, detail) => {
    const decoded = decode(kind, withField(validJson(kind), path, value));
    expect(decoded).toMatchObject({ ok: false, reason: 'schema-violation' });
    expect(decoded.ok ? '' : decoded.detail).toContain(detail);
  });
});
