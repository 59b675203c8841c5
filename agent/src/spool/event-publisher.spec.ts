import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type EventBatchMessage } from '@emofleet/protocol';
import { type ConnectionStatus } from '../connection';
import { silentLogger } from '../logger';
import { sampleEvent } from '../../test/support/sample-events';
import { EventPublisher, type EventChannel } from './event-publisher';
import { EventSpool } from './event-spool';

/** A connection that is online, records every batch and never acknowledges (the test plays the clock). */
class RecordingChannel implements EventChannel {
  readonly status: ConnectionStatus = 'online';
  readonly batches: EventBatchMessage[] = [];
  publish(_kind: 'events', message: EventBatchMessage): Promise<void> {
    this.batches.push(message);
    return Promise.resolve();
  }
  onMessage(): () => void {
    return () => undefined;
  }
  onStatusChange(): () => void {
    return () => undefined;
  }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(20);
  }
}

describe('EventPublisher re-sends', () => {
  let directory: string;
  let spool: EventSpool;
  let publisher: EventPublisher | undefined;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-publisher-'));
    spool = EventSpool.open({
      directory,
      maxBytes: 1024 * 1024,
      segmentBytes: 64 * 1024,
      fsync: { mode: 'every-append' },
      logger: silentLogger,
    });
  });
  afterEach(() => {
    publisher?.stop();
    spool.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it('waits resendAfterMs from the first publication after a quiet spell, then re-sends from the acknowledgement', async () => {
    let clock = 0;
    const channel = new RecordingChannel();
    publisher = new EventPublisher({
      deviceId: 'cam-1',
      spool,
      channel,
      logger: silentLogger,
      resendAfterMs: 1000,
      now: () => clock,
    });
    publisher.start();
    // A quiet minute without events, then one event: it was just published, so it is not stalled yet.
    clock = 60_000;
    spool.append(sampleEvent(0));
    await until(() => channel.batches.length === 1, 'the first batch');
    // The stall check runs every resendAfterMs / 4 of real time: give it several chances.
    await settle(800);
    expect(channel.batches).toHaveLength(1);

    // No acknowledgement for longer than resendAfterMs: re-sent from the acknowledgement, same events.
    clock = 61_001;
    await until(() => channel.batches.length === 2, 'the re-send');
    expect(channel.batches[1]?.events.map((event) => event.seq)).toEqual([1]);
  });

  it('re-sends on time although the wall clock was set back an hour meanwhile (Date.now faked)', async () => {
    const wallClock = Date.now;
    let offsetMs = 0;
    const fakeClock = jest.spyOn(Date, 'now').mockImplementation(() => wallClock() + offsetMs);
    try {
      const channel = new RecordingChannel();
      publisher = new EventPublisher({
        deviceId: 'cam-1',
        spool,
        channel,
        logger: silentLogger,
        resendAfterMs: 300,
      });
      publisher.start();
      spool.append(sampleEvent(0));
      await until(() => channel.batches.length === 1, 'the first batch');
      // An NTP step an hour back while the batch waits for its acknowledgement.
      offsetMs = -3_600_000;
      const deadline = wallClock() + 5000;
      while (channel.batches.length < 2 && wallClock() < deadline) await settle(20);
      expect(channel.batches.map((batch) => batch.events.map((event) => event.seq))).toEqual([[1], [1]]);
    } finally {
      fakeClock.mockRestore();
    }
  });
});
