import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TopicScheme } from '@emofleet/protocol';
import { DeviceConnection, silentLogger } from '../src';
import { EventPublisher, EventSpool, type EventSpoolOptions } from '../src/spool';
import { uniqueTopicPrefix } from './support/broker-observer';
import { EventIngestDouble } from './support/event-ingest-double';
import { PrivateBroker } from './support/private-broker';
import { sampleEvent } from './support/sample-events';
import { testBirth } from './support/test-birth';
import { until } from './support/wait';

jest.setTimeout(150_000);

const DEVICE_ID = 'spool-device';

describe('spooled events through a private mosquitto that goes down, to an ingest double acking like the control plane', () => {
  let broker: PrivateBroker;
  let dataDir: string;
  let topics: TopicScheme;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeEach(async () => {
    broker = await PrivateBroker.create();
    await broker.start();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-delivery-'));
    topics = new TopicScheme(uniqueTopicPrefix('delivery'));
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await broker.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function startAgentParts(spoolOptions: Partial<EventSpoolOptions> = {}, maxInFlightEvents = 400) {
    const spool = EventSpool.open({
      directory: path.join(dataDir, 'spool'),
      maxBytes: 16 * 1024 * 1024,
      segmentBytes: 64 * 1024,
      fsync: { mode: 'interval', intervalMs: 20 },
      logger: silentLogger,
      ...spoolOptions,
    });
    const connection = new DeviceConnection({
      url: broker.url,
      deviceId: DEVICE_ID,
      secret: 'secret',
      dataDir,
      topics,
      protocolVersion: 4,
      keepaliveSeconds: 5,
      connectTimeoutMs: 1000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
      birth: testBirth,
      logger: silentLogger,
    });
    const publisher = new EventPublisher({
      deviceId: DEVICE_ID,
      spool,
      channel: connection,
      logger: silentLogger,
      batchSize: 50,
      maxInFlightEvents,
      // After a broker restart the agent may publish before the ingest double has resubscribed (no persistent
      // session survives a broker without persistence): those batches reach nobody and are re-sent from the
      // acknowledgement after this timeout, as the protocol specifies.
      resendAfterMs: 2000,
    });
    publisher.start();
    connection.start();
    cleanups.push(async () => {
      publisher.stop();
      await connection.stop();
      spool.close();
    });
    await until(() => connection.status === 'online', 'agent online', 5000);
    const ingest = await EventIngestDouble.start(broker.url, topics, DEVICE_ID);
    cleanups.push(() => ingest.close());
    return { spool, connection, publisher, ingest };
  }

  async function outageWithEvents(
    spool: EventSpool,
    outageMs: number,
    eventEveryMs: number,
  ): Promise<number> {
    await broker.stop();
    const start = Date.now();
    let appended = 0;
    while (Date.now() - start < outageMs) {
      spool.append(sampleEvent(appended));
      appended += 1;
      await new Promise((resolve) => setTimeout(resolve, eventEveryMs));
    }
    await broker.start();
    return appended;
  }

  /**
   * Every seq 1..total stored exactly once (the control plane stores by (device, seq)), acknowledged. Deliveries
   * may repeat only where a re-send was legitimate; `maxDuplicateDeliveries` bounds them per test.
   */
  function expectExactlyOnce(ingest: EventIngestDouble, total: number, maxDuplicateDeliveries = 0): void {
    expect(ingest.storedSeqs()).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(ingest.highestContiguousSeq).toBe(total);
    expect(ingest.duplicateDeliveries()).toBeLessThanOrEqual(maxDuplicateDeliveries);
  }

  it('delivers events from before, during and after a 5 s outage exactly once, in order, and empties the spool', async () => {
    const { spool, ingest } = await startAgentParts();
    for (let n = 0; n < 30; n += 1) spool.append(sampleEvent(n));
    await until(() => ingest.highestContiguousSeq === 30, 'first 30 events acknowledged', 5000);
    // The ingest double has sent its acknowledgement; the agent drops the 30 from its spool once it arrives. A
    // broker stopped before then loses the acknowledgement and they stay spooled (to be re-sent): not this case.
    await until(() => spool.stats.depth === 0, 'first 30 events removed from the spool', 5000);
    const duringOutage = await outageWithEvents(spool, 5000, 10);
    expect(spool.stats.depth).toBe(duringOutage);
    for (let n = 0; n < 20; n += 1) spool.append(sampleEvent(n));
    const total = 30 + duringOutage + 20;
    await until(() => ingest.highestContiguousSeq === total, `all ${total} events acknowledged`, 20_000);
    expectExactlyOnce(ingest, total, 400);
    await until(() => spool.stats.depth === 0, 'spool emptied by the acknowledgement', 2000);
  });

  it('delivers every event generated during a 61 s broker outage exactly once after reconnecting', async () => {
    const { spool, ingest } = await startAgentParts();
    spool.append(sampleEvent(0));
    await until(() => ingest.highestContiguousSeq === 1, 'first event acknowledged', 5000);
    const outageStarted = Date.now();
    const duringOutage = await outageWithEvents(spool, 61_000, 50);
    expect(Date.now() - outageStarted).toBeGreaterThanOrEqual(61_000);
    // One event every 50 ms, fewer when the machine is busy.
    expect(duringOutage).toBeGreaterThan(300);
    await until(
      () => ingest.highestContiguousSeq === 1 + duringOutage,
      `${1 + duringOutage} events acknowledged`,
      30_000,
    );
    expectExactlyOnce(ingest, 1 + duringOutage, 400);
    await until(() => spool.stats.depth === 0, 'spool emptied', 2000);
  });

  it('declares the events a full spool dropped, so the acknowledgement moves past the gap; the drop is counted', async () => {
    const { spool, ingest } = await startAgentParts({ maxBytes: 16 * 1024, segmentBytes: 4096 });
    await broker.stop();
    // 400 events of ~230 bytes: far more than the 16 KiB spool holds.
    const duringOutage = 400;
    for (let n = 0; n < duringOutage; n += 1) spool.append(sampleEvent(n));
    await broker.start();
    const { droppedTotal } = spool.stats;
    expect(droppedTotal).toBeGreaterThan(0);
    await until(
      () => ingest.highestContiguousSeq === duringOutage,
      'acknowledged past the declared gap',
      10_000,
    );
    expect(ingest.lost.size).toBe(droppedTotal);
    expect(ingest.storedSeqs().length + ingest.lost.size).toBe(duringOutage);
    expect(Math.min(...ingest.storedSeqs())).toBe(droppedTotal + 1);
    await until(() => spool.stats.depth === 0, 'spool emptied', 2000);
    expect(spool.stats.droppedTotal).toBe(droppedTotal);
    expect(spool.lostRanges).toEqual([]);
  });

  it('keeps at most the in-flight window unacknowledged, and re-sends nothing while acks progress', async () => {
    const { spool, ingest, publisher } = await startAgentParts({}, 100);
    ingest.acknowledging = false;
    for (let n = 0; n < 350; n += 1) spool.append(sampleEvent(n));
    await until(() => ingest.storedSeqs().length === 100, 'the first window delivered', 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ingest.storedSeqs().length).toBe(100);
    ingest.acknowledging = true;
    await ingest.publishAck();
    await until(() => ingest.highestContiguousSeq === 350, 'all acknowledged once acks resume', 5000);
    expectExactlyOnce(ingest, 350);
    // Seven batches of 50, none re-sent. The ingest double can store (and acknowledge) the last batch before
    // the broker's PUBACK reaches the agent, so the agent's own count may trail the deliveries for a moment.
    expect(ingest.batches).toBe(7);
    await until(() => publisher.batchesPublished === 7, 'the last PUBACK counted by the agent', 2000);
  });
});
