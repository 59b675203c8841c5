import { PROTOCOL_VERSION } from '@emofleet/protocol';
import { ProtocolRejections } from '../src/messaging/protocol-rejections';
import { apiRequest } from './support/api-request';
import { event, range } from './support/event-device';
import { eventually } from './support/eventually';
import { useEventFleet } from './support/event-fleet';
import { type TestMode } from './support/test-environment';

interface EventView {
  id: string;
  deviceId: string;
  seq: number;
  label: string;
  score: number;
}

interface Continuity {
  highestContiguousSeq: number;
  storedEvents: number;
  lostEvents: number;
  lostRanges: Array<{ fromSeq: number; toSeq: number }>;
  missingRanges: Array<{ fromSeq: number; toSeq: number }>;
}

// Real services on a shared machine: allow for slow moments beyond jest's 5 s default.
jest.setTimeout(30_000);

describe.each<TestMode>(['external-services', 'embedded'])('event ingestion with %s', (mode) => {
  const fleet = useEventFleet(mode);
  const newDevice = () => fleet.newDevice();

  const continuity = async (deviceId: string): Promise<Continuity> =>
    (await apiRequest<Continuity>(fleet.controlPlane.httpUrl, 'GET', `/events/continuity/${deviceId}`)).body;

  /** Every stored event matching `query`, following the cursor page by page. */
  const allEvents = async (query: string, limit = 4): Promise<EventView[]> => {
    const events: EventView[] = [];
    let cursor: string | null = null;
    do {
      const suffix: string = cursor === null ? '' : `&cursor=${cursor}`;
      const page = await apiRequest<{ items: EventView[]; nextCursor: string | null }>(
        fleet.controlPlane.httpUrl,
        'GET',
        `/events?${query}&limit=${limit}${suffix}`,
      );
      expect(page.status).toBe(200);
      events.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    return events;
  };

  it('stores each event once under redelivery and out-of-order batches, acking the contiguous frontier', async () => {
    const device = await newDevice();
    await device.send(range(1, 3));
    await eventually(
      () => Promise.resolve(device.highestAck),
      (ack) => ack === 3,
      { timeoutMs: 15_000, what: 'ack 3' },
    );
    // A redelivered batch and a later batch arriving before the one it follows.
    await device.send(range(1, 3));
    await device.send(range(7, 9));
    await eventually(
      () => continuity(device.id),
      (state) => state.storedEvents === 6,
      { timeoutMs: 15_000, what: 'events 7-9 stored' },
    );
    const withGap = await continuity(device.id);
    expect(withGap.highestContiguousSeq).toBe(3);
    expect(withGap.missingRanges).toEqual([{ fromSeq: 4, toSeq: 6 }]);
    expect(device.highestAck).toBe(3);

    await device.send(range(4, 6));
    await device.send(range(2, 8));
    await eventually(
      () => Promise.resolve(device.highestAck),
      (ack) => ack === 9,
      { timeoutMs: 15_000, what: 'ack 9' },
    );
    const stored = await allEvents(`device=${device.id}`);
    expect(stored.map((e) => e.seq).sort((a, b) => a - b)).toEqual(range(1, 9));
    const ordered = stored.map((e) => BigInt(e.id));
    expect(ordered).toEqual([...ordered].sort((a, b) => (a < b ? -1 : 1)));
    const state = await continuity(device.id);
    expect(state).toMatchObject({ highestContiguousSeq: 9, storedEvents: 9, missingRanges: [] });
  });

  it('records declared losses, counts them and acknowledges past them', async () => {
    const device = await newDevice();
    await device.send(range(1, 2));
    await device.send([6, 7], [{ fromSeq: 3, toSeq: 5 }]);
    await eventually(
      () => Promise.resolve(device.highestAck),
      (ack) => ack === 7,
      { timeoutMs: 15_000, what: 'ack 7 past the declared loss' },
    );
    // A batch may carry only a loss; repeating a declaration counts it once.
    await device.send([], [{ fromSeq: 8, toSeq: 9 }]);
    await device.send([], [{ fromSeq: 8, toSeq: 9 }]);
    await eventually(
      () => Promise.resolve(device.highestAck),
      (ack) => ack === 9,
      { timeoutMs: 15_000, what: 'ack 9 from a loss-only batch' },
    );
    expect(await continuity(device.id)).toMatchObject({
      highestContiguousSeq: 9,
      storedEvents: 4,
      lostEvents: 5,
      lostRanges: [
        { fromSeq: 3, toSeq: 5 },
        { fromSeq: 8, toSeq: 9 },
      ],
    });
  });

  it('counts malformed batches without storing them and keeps ingesting', async () => {
    const device = await newDevice();
    const rejections = fleet.controlPlane.app.get(ProtocolRejections);
    const before = rejections.snapshot().byKindAndReason;
    const count = (key: string, snapshot: Record<string, number>) => snapshot[key] ?? 0;
    await device.raw('{not json');
    await device.raw(
      JSON.stringify({ v: PROTOCOL_VERSION, deviceId: device.id, events: [event(2), event(1)] }),
    );
    await device.raw(JSON.stringify({ v: PROTOCOL_VERSION, deviceId: 'someone-else', events: [event(1)] }));
    await device.raw(JSON.stringify({ deviceId: device.id, events: [event(1)] }));
    await device.send([1]);
    await eventually(
      () => Promise.resolve(device.highestAck),
      (ack) => ack === 1,
      { timeoutMs: 15_000, what: 'the valid batch acknowledged' },
    );
    const after = rejections.snapshot().byKindAndReason;
    expect(count('events/invalid-json', after) - count('events/invalid-json', before)).toBe(1);
    expect(count('events/schema-violation', after) - count('events/schema-violation', before)).toBe(1);
    expect(count('events/topic-mismatch', after) - count('events/topic-mismatch', before)).toBe(1);
    expect(count('events/missing-version', after) - count('events/missing-version', before)).toBe(1);
    expect((await allEvents(`device=${device.id}`)).map((e) => e.seq)).toEqual([1]);
  });

  it('filters events by tag, label and score and pages through them with a stable cursor', async () => {
    const device = await newDevice();
    await device.send(range(1, 20));
    await eventually(
      () => Promise.resolve(device.highestAck),
      (ack) => ack === 20,
      { timeoutMs: 15_000, what: 'ack 20' },
    );
    const happy = await allEvents(`tags=site=${device.enrolment.name}&label=Happiness`, 2);
    expect(happy.map((e) => e.seq)).toEqual([4, 8, 12, 16, 20]);
    const confident = await allEvents(`device=${device.id}&minScore=0.85`, 3);
    expect(confident.every((e) => e.score >= 0.85)).toBe(true);
    expect(confident.map((e) => e.seq)).toEqual(range(1, 20).filter((seq) => 0.5 + (seq % 5) / 10 >= 0.85));
    const late = await allEvents(
      `device=${device.id}&from=${new Date(event(15).startedAt).toISOString()}&to=${new Date(event(18).startedAt).toISOString()}`,
    );
    expect(late.map((e) => e.seq)).toEqual([15, 16, 17]);
    const bad = await apiRequest(fleet.controlPlane.httpUrl, 'GET', '/events?tags=%21%21');
    expect(bad.status).toBe(400);
  });
});
