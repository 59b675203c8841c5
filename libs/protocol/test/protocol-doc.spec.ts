import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { KIND_DELIVERY, MESSAGE_KINDS, MESSAGE_SCHEMAS, TopicScheme, type MessageKind } from '../src';
import * as protocol from '../src';
import { addressOf, DEVICE_ID, JOB_ID } from './fixtures';

/** docs/protocol.md's topic table must say what KIND_DELIVERY and the schemas do. */
describe('docs/protocol.md topic table', () => {
  const doc = readFileSync(path.resolve(__dirname, '../../../docs/protocol.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const kind = /^`([a-z-]+)`$/.exec(cells[2] ?? '')?.[1];
    if (kind !== undefined) rows.set(kind, cells.slice(1, -1));
  }

  it('has one row per message kind', () => {
    expect([...rows.keys()].sort()).toEqual([...MESSAGE_KINDS].sort());
  });

  it.each(MESSAGE_KINDS)('describes %s as the library delivers it', (kind: MessageKind) => {
    const [topic, , direction, qos, retained, expiry, shared, schema, maxBytes] = rows.get(kind) ?? [];
    const delivery = KIND_DELIVERY[kind];
    const suffix = new TopicScheme()
      .topicFor(addressOf(kind))
      .replace(`emofleet/v1/devices/${DEVICE_ID}/`, '')
      .replace(JOB_ID, '<jobId>');
    expect(topic).toBe(`\`${suffix}\``);
    expect(
      direction?.startsWith(delivery.direction === 'device-to-cloud' ? 'device → cloud' : 'cloud → device'),
    ).toBe(true);
    expect(qos).toBe(String(delivery.qos));
    expect(retained).toBe(delivery.retain ? 'yes' : 'no');
    expect(expiry).toBe(
      delivery.messageExpirySeconds === undefined ? '–' : `${delivery.messageExpirySeconds} s`,
    );
    if (delivery.direction === 'device-to-cloud') expect(shared).toBe(delivery.shareable ? 'yes' : 'no');
    expect(maxBytes).toBe(`${delivery.maxPayloadBytes / 1024} KiB`);
    const schemaName = /^`(\w+)`$/.exec(schema ?? '')?.[1] ?? '';
    expect((protocol as Record<string, unknown>)[schemaName]).toBe(MESSAGE_SCHEMAS[kind]);
  });
});
