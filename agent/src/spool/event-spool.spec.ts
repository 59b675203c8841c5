import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger, type Logger } from '../logger';
import { sampleEvent } from '../../test/support/sample-events';
import { EventSpool, type EventSpoolOptions } from './event-spool';
import { encodeSpoolRecord } from './spool-record';

// A full disk cannot be made here without root (tools/faults does it with a tmpfs): `fs.writeSync` is wrapped
// so that one test can make it fail part-way; every other call goes to the real function.
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof fs>('node:fs');
  return { ...actual, writeSync: jest.fn(actual.writeSync) };
});

describe('EventSpool', () => {
  let directory: string;
  const open = (overrides: Partial<EventSpoolOptions> = {}) =>
    EventSpool.open({
      directory,
      maxBytes: 1024 * 1024,
      segmentBytes: 64 * 1024,
      fsync: { mode: 'every-append' },
      logger: silentLogger,
      ...overrides,
    });
  const segmentFiles = () =>
    fs
      .readdirSync(directory)
      .filter((name) => name.endsWith('.seg'))
      .sort();

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-spool-'));
  });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('numbers events 1, 2, 3 … and keeps numbering across a reopen', () => {
    const spool = open();
    expect([0, 1, 2].map((n) => spool.append(sampleEvent(n)).seq)).toEqual([1, 2, 3]);
    spool.close();
    const reopened = open();
    expect(reopened.append(sampleEvent(3)).seq).toBe(4);
    expect(reopened.readFrom(1, 10).map((e) => [e.seq, e.frameIndex])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 3],
    ]);
    reopened.close();
  });

  it('deletes only acknowledged segments and never reuses a seq after deleting all of them', () => {
    const spool = open({ segmentBytes: 4096 });
    for (let n = 0; n < 60; n += 1) spool.append(sampleEvent(n));
    expect(segmentFiles().length).toBeGreaterThan(2);
    const before = segmentFiles().length;
    expect(spool.acknowledge(20)).toBe(true);
    expect(segmentFiles().length).toBeLessThan(before);
    expect(spool.readFrom(1, 1)[0]?.seq).toBe(21);
    expect(spool.stats.depth).toBe(40);
    expect(spool.acknowledge(10)).toBe(false);
    spool.acknowledge(60);
    expect(segmentFiles()).toEqual([]);
    expect(spool.stats.depth).toBe(0);
    spool.close();
    const reopened = open({ segmentBytes: 4096 });
    expect(reopened.append(sampleEvent(60)).seq).toBe(61);
    reopened.close();
  });

  it('truncates a torn last record on open and continues after the last whole one', () => {
    const warnings: Record<string, unknown>[] = [];
    const logger: Logger = { ...silentLogger, warn: (_message, fields = {}) => warnings.push(fields) };
    const spool = open();
    for (let n = 0; n < 5; n += 1) spool.append(sampleEvent(n));
    spool.close();
    const [segment] = segmentFiles();
    const file = path.join(directory, segment as string);
    const goodSize = fs.statSync(file).size;
    const torn = encodeSpoolRecord({ ...sampleEvent(5), seq: 6 }).subarray(0, 30);
    fs.appendFileSync(file, torn);

    const reopened = open({ logger });
    expect(fs.statSync(file).size).toBe(goodSize);
    expect(warnings[0]).toMatchObject({
      file,
      byteOffset: goodSize,
      problem: `record of ${torn.readUInt32LE(0)} bytes cut short`,
    });
    expect(reopened.readFrom(1, 100).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(reopened.append(sampleEvent(5)).seq).toBe(6);
    reopened.close();
  });

  it('detects a flipped byte by its CRC and drops that record and everything after it in the segment', () => {
    const spool = open();
    const sizes: number[] = [];
    for (let n = 0; n < 4; n += 1) {
      spool.append(sampleEvent(n));
      sizes.push(spool.stats.bytes);
    }
    spool.close();
    const file = path.join(directory, segmentFiles()[0] as string);
    const bytes = fs.readFileSync(file);
    const thirdRecordPayload = (sizes[1] as number) + 20;
    bytes[thirdRecordPayload] = (bytes[thirdRecordPayload] as number) ^ 0xff;
    fs.writeFileSync(file, bytes);
    const reopened = open();
    expect(reopened.readFrom(1, 100).map((e) => e.seq)).toEqual([1, 2]);
    // seq 3 and 4 were written and may have been published: they are declared lost, never reused.
    expect(reopened.lostRanges).toEqual([{ fromSeq: 3, toSeq: 4 }]);
    expect(reopened.stats.droppedTotal).toBe(2);
    expect(reopened.append(sampleEvent(9)).seq).toBe(5);
    reopened.close();
  });

  it('when full, drops the oldest segment, counts the drop and declares it lost until acknowledged', () => {
    const spool = open({ maxBytes: 8192, segmentBytes: 4096 });
    for (let n = 0; n < 100; n += 1) spool.append(sampleEvent(n));
    const { droppedTotal, depth, bytes } = spool.stats;
    expect(bytes).toBeLessThanOrEqual(8192);
    expect(droppedTotal).toBeGreaterThan(0);
    expect(depth + droppedTotal).toBe(100);
    expect(spool.lostRanges).toEqual([{ fromSeq: 1, toSeq: droppedTotal }]);
    expect(spool.readFrom(1, 1)[0]?.seq).toBe(droppedTotal + 1);
    spool.close();

    const reopened = open({ maxBytes: 8192, segmentBytes: 4096 });
    expect(reopened.stats.droppedTotal).toBe(droppedTotal);
    expect(reopened.lostRanges).toEqual([{ fromSeq: 1, toSeq: droppedTotal }]);
    reopened.acknowledge(droppedTotal + 1);
    expect(reopened.lostRanges).toEqual([]);
    expect(reopened.stats.droppedTotal).toBe(droppedTotal);
    reopened.close();
  });

  const diskFull = () =>
    Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const realWrite = jest.requireActual<typeof fs>('node:fs').writeSync;
  afterEach(() => jest.mocked(fs.writeSync).mockImplementation(realWrite));

  it('undoes a write that fails part-way (full disk simulated by a failing fs.writeSync), keeps the event with its seq and writes it next time', () => {
    const first = open();
    first.append(sampleEvent(0));
    first.close();
    // Reopened: the segment is appended to through an O_APPEND descriptor, as after every agent restart.
    const spool = open();
    const segment = path.join(directory, segmentFiles()[0] as string);
    const sizeBefore = fs.statSync(segment).size;
    // The disk fills in the middle of the next record: a short write, then ENOSPC, as write(2) reports it.
    jest
      .mocked(fs.writeSync)
      .mockImplementationOnce(((
        fd: number,
        buffer: Buffer,
        offset: number,
        length: number,
        position: number,
      ) => realWrite(fd, buffer, offset, Math.floor(length / 2), position)) as typeof fs.writeSync)
      .mockImplementationOnce(() => {
        throw diskFull();
      });
    expect(spool.append(sampleEvent(1)).seq).toBe(2);
    expect(fs.statSync(segment).size).toBe(sizeBefore);
    // Kept in memory: not handed to the publisher until written.
    expect(spool.stats.unwritten).toBe(1);
    expect(spool.readFrom(1, 10).map((e) => e.seq)).toEqual([1]);
    expect(spool.append(sampleEvent(2)).seq).toBe(3);
    expect(spool.stats.unwritten).toBe(0);
    expect(spool.readFrom(1, 10).map((e) => [e.seq, e.frameIndex])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
    spool.close();
    const reopened = open();
    expect(reopened.readFrom(1, 10).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(reopened.lostRanges).toEqual([]);
    reopened.close();
  });

  it('writes the events kept in memory once the disk takes them again, without another append', async () => {
    const spool = open({ retryIntervalMs: 20 });
    spool.append(sampleEvent(0));
    jest.mocked(fs.writeSync).mockImplementation(() => {
      throw diskFull();
    });
    spool.append(sampleEvent(1));
    spool.append(sampleEvent(2));
    expect(spool.readFrom(1, 10).map((e) => e.seq)).toEqual([1]);
    const durable = new Promise<void>((resolve) => spool.onDurable(resolve));
    jest.mocked(fs.writeSync).mockImplementation(realWrite);
    await durable;
    expect(spool.stats.unwritten).toBe(0);
    expect(spool.readFrom(1, 10).map((e) => e.seq)).toEqual([1, 2, 3]);
    spool.close();
  });

  it('past memoryBufferEvents, drops the oldest events kept in memory and declares them lost once the disk takes writes', () => {
    const spool = open({ memoryBufferEvents: 3 });
    spool.append(sampleEvent(0));
    // The state file is written with fs.writeSync too: the loss cannot be recorded while the disk is full.
    jest.mocked(fs.writeSync).mockImplementation(() => {
      throw diskFull();
    });
    for (let n = 1; n <= 5; n += 1) expect(spool.append(sampleEvent(n)).seq).toBe(n + 1);
    expect(spool.stats.unwritten).toBe(3);
    expect(spool.lostRanges).toEqual([]);
    jest.mocked(fs.writeSync).mockImplementation(realWrite);
    expect(spool.append(sampleEvent(6)).seq).toBe(7);
    // Seqs 2 and 3 were dropped from memory: declared (and counted), never reused; 4 to 7 were written.
    expect(spool.lostRanges).toEqual([{ fromSeq: 2, toSeq: 3 }]);
    expect(spool.stats.droppedTotal).toBe(2);
    expect(spool.readFrom(1, 10).map((e) => [e.seq, e.frameIndex])).toEqual([
      [1, 0],
      [4, 3],
      [5, 4],
      [6, 5],
      [7, 6],
    ]);
    spool.close();
    const reopened = open();
    expect(reopened.readFrom(1, 10).map((e) => e.seq)).toEqual([1, 4, 5, 6, 7]);
    expect(reopened.lostRanges).toEqual([{ fromSeq: 2, toSeq: 3 }]);
    expect(reopened.append(sampleEvent(7)).seq).toBe(8);
    reopened.close();
  });

  it('continues numbering above an acknowledgement from a control plane that knows more than the spool', () => {
    const spool = open();
    spool.append(sampleEvent(0));
    spool.acknowledge(5000);
    expect(spool.append(sampleEvent(1)).seq).toBe(5001);
    spool.close();
  });

  it('hands out events only once they are synced under the interval policy', () => {
    const spool = open({ fsync: { mode: 'interval', intervalMs: 60_000 } });
    let durableNotices = 0;
    spool.onDurable(() => (durableNotices += 1));
    spool.append(sampleEvent(0));
    spool.append(sampleEvent(1));
    expect(spool.readFrom(1, 10)).toEqual([]);
    spool.sync();
    expect(durableNotices).toBe(1);
    expect(spool.readFrom(1, 10).map((e) => e.seq)).toEqual([1, 2]);
    spool.close();
  });

  it('refuses an invalid event naming the field', () => {
    const spool = open();
    expect(() => spool.append({ ...sampleEvent(0), score: 1.5 })).toThrow(/score/);
    expect(spool.stats.nextSeq).toBe(1);
    spool.close();
  });

  it('refuses sizes that cannot hold two segments', () => {
    expect(() => open({ maxBytes: 4096, segmentBytes: 4096 })).toThrow(/maxBytes/);
  });
});
