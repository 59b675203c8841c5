import { EventRetentionProcessor } from '../src/events/event-retention.processor';
import { apiRequest } from './support/api-request';
import { event, type EventDevice, range } from './support/event-device';
import { eventually } from './support/eventually';
import { useEventFleet } from './support/event-fleet';
import { authHeaders, type TestMode } from './support/test-environment';

interface StreamedEvent {
  id: string;
  seq: number;
  deviceId: string;
}

/** Reads Server-Sent Events from `/events/stream` until `stop` is called. */
class SseClient {
  readonly received: Array<{ id: string; event: StreamedEvent }> = [];
  private readonly abort = new AbortController();
  private reading: Promise<void> | undefined;

  async open(url: string, lastEventId?: string): Promise<void> {
    const headers: Record<string, string> = { ...authHeaders(), accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await fetch(url, { headers, signal: this.abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const body = response.body;
    if (!body) throw new Error('no body');
    this.reading = this.read(body.getReader()).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.reading;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of frame.split('\n')) {
          const colon = line.indexOf(': ');
          if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2));
        }
        const id = fields.get('id');
        const data = fields.get('data');
        if (id !== undefined && data !== undefined && fields.get('event') === 'emotion-event') {
          this.received.push({ id, event: JSON.parse(data) as StreamedEvent });
        }
      }
    }
  }
}

// Real services on a shared machine: allow for slow moments beyond jest's 5 s default.
jest.setTimeout(30_000);

describe.each<TestMode>(['external-services', 'embedded'])('events API with %s', (mode) => {
  const fleet = useEventFleet(mode);

  const deviceWith = async (seqs: number[]): Promise<EventDevice> => {
    const device = await fleet.newDevice();
    await device.send(seqs);
    const last = seqs[seqs.length - 1] ?? 0;
    await eventually(
      () => Promise.resolve(device.highestAck),
      (ack) => ack === last,
      { timeoutMs: 15_000, what: `ack ${last}` },
    );
    return device;
  };

  it('resumes a Server-Sent Events stream with Last-Event-ID without losing or repeating an event', async () => {
    const device = await deviceWith(range(1, 5));
    const url = `${fleet.controlPlane.httpUrl}/events/stream?device=${device.id}`;
    const first = new SseClient();
    await first.open(url);
    await eventually(
      () => Promise.resolve(first.received.length),
      (count) => count === 5,
      { what: 'five stored events streamed', timeoutMs: 20_000 },
    );
    await first.stop();
    const resumeAfter = first.received[2]?.id;
    // While the client is away (it saw only up to seq 3, say), the device sends more.
    await device.send(range(6, 8));
    const second = new SseClient();
    await second.open(url, resumeAfter);
    await device.send(range(9, 10));
    await eventually(
      () => Promise.resolve(second.received.length),
      (count) => count >= 7,
      { what: 'the missed and the live events', timeoutMs: 20_000 },
    );
    await second.stop();
    expect(second.received.map((entry) => entry.event.seq)).toEqual(range(4, 10));
    expect(second.received.every((entry) => entry.id === entry.event.id)).toBe(true);
  });

  it('exports the filtered events as NDJSON and CSV, streamed', async () => {
    const device = await deviceWith(range(1, 12));
    const ndjson = await fetch(
      `${fleet.controlPlane.httpUrl}/events/export?device=${device.id}&format=ndjson`,
      {
        headers: authHeaders(),
      },
    );
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await ndjson.text()).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual(range(1, 12));
    const csv = await fetch(
      `${fleet.controlPlane.httpUrl}/events/export?device=${device.id}&format=csv&label=Sadness`,
      { headers: authHeaders() },
    );
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = (await csv.text()).trim().split('\n');
    expect(rows[0]).toBe(
      'id,deviceId,seq,label,score,boxX,boxY,boxWidth,boxHeight,startedAt,durationMs,frameIndex,modelId,trackId,receivedAt',
    );
    expect(rows.slice(1).map((row) => row.split(',')[2])).toEqual(['1', '5', '9']);
    expect(rows[1]?.split(',')[9]).toBe(new Date(event(1).startedAt).toISOString());
  });

  it('counts events per bucket and label, device or tag', async () => {
    const device = await deviceWith(range(1, 8));
    const response = await apiRequest<{
      rows: Array<{ bucketStart: string; keys: Record<string, string | null>; count: number }>;
    }>(
      fleet.controlPlane.httpUrl,
      'GET',
      `/events/aggregates?device=${device.id}&bucket=1h&by=label,tag:site`,
    );
    expect(response.status).toBe(200);
    const bucketStart = new Date(Math.floor(event(1).startedAt / 3_600_000) * 3_600_000).toISOString();
    expect(response.body.rows).toEqual(
      ['Anger', 'Happiness', 'Sadness', 'Surprise'].map((label) => ({
        bucketStart,
        keys: { label, 'tag:site': device.enrolment.name },
        count: 2,
      })),
    );
    const bad = await apiRequest(fleet.controlPlane.httpUrl, 'GET', '/events/aggregates?by=colour');
    expect(bad.status).toBe(400);
  });

  it("deletes a device's events in a time range, and expired events by retention", async () => {
    const device = await deviceWith(range(1, 6));
    const other = await deviceWith(range(1, 2));
    const from = new Date(event(2).startedAt).toISOString();
    const to = new Date(event(5).startedAt).toISOString();
    const deletion = await apiRequest<{ deleted: number }>(
      fleet.controlPlane.httpUrl,
      'DELETE',
      `/events?device=${device.id}&from=${from}&to=${to}`,
    );
    expect(deletion.status).toBe(200);
    expect(deletion.body.deleted).toBe(3);
    const left = await apiRequest<{ items: Array<{ seq: number }> }>(
      fleet.controlPlane.httpUrl,
      'GET',
      `/events?device=${device.id}`,
    );
    expect(left.body.items.map((item) => item.seq)).toEqual([1, 5, 6]);
    // The acknowledged frontier stays: the device must not re-send what was deliberately deleted.
    const continuity = await apiRequest<{ highestContiguousSeq: number }>(
      fleet.controlPlane.httpUrl,
      'GET',
      `/events/continuity/${device.id}`,
    );
    expect(continuity.body.highestContiguousSeq).toBe(6);

    const retention = fleet.controlPlane.app.get(EventRetentionProcessor);
    // Default retention 90 days: nothing is old enough 89 days later, everything 91 days later.
    expect(await retention.deleteExpired(new Date(event(1).startedAt + 89 * 86_400_000))).toBe(0);
    expect(await retention.deleteExpired(new Date(event(10).startedAt + 91 * 86_400_000))).toBeGreaterThan(0);
    const remaining = await apiRequest<{ items: unknown[] }>(
      fleet.controlPlane.httpUrl,
      'GET',
      `/events?device=${other.id}`,
    );
    expect(remaining.body.items).toEqual([]);
  });
});
