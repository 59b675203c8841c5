import { sql } from 'drizzle-orm';
import { type DatabaseConnection } from '../src/database/database-connection';
import { EventBatchWriter } from '../src/events/event-batch-writer';
import { EventsRepository } from '../src/events/events.repository';
import { event, range } from './support/event-device';
import {
  openTestDatabase,
  type TestDatabaseConnection,
  type TestDatabaseMode,
} from './support/test-database-connection';
import { uniqueSuffix } from './support/test-environment';

jest.setTimeout(60_000);

/**
 * Group commit of event batches (`EventBatchWriter` over `EventsRepository.storeBatches`) and the frontier of
 * many devices in one statement (`advanceFrontiers`), on PostgreSQL and on the embedded PGlite.
 */
describe.each<TestDatabaseMode>(['postgres', 'pglite'])('event batch group commit on %s', (mode) => {
  let connection: DatabaseConnection;
  let repository: EventsRepository;
  let database: TestDatabaseConnection;

  beforeAll(async () => {
    database = await openTestDatabase(mode);
    connection = database.connection;
    repository = new EventsRepository(database.adapter);
  });

  afterAll(async () => {
    await database?.close();
  });

  const storedSeqs = async (deviceId: string): Promise<number[]> => {
    const result: unknown = await connection.db.execute(
      sql`select seq::int8 as seq from emotion_events where device_id = ${deviceId} order by seq`,
    );
    return (result as { rows: Array<{ seq: string | number }> }).rows.map((row) => Number(row.seq));
  };
  const batch = (deviceId: string, seqs: number[], lost: Array<{ fromSeq: number; toSeq: number }> = []) => ({
    deviceId,
    events: seqs.map(event),
    lost,
  });

  it("stores many devices' batches in one flush, each caller getting its own outcome", async () => {
    const writer = new EventBatchWriter(repository);
    const devices = range(1, 40).map((n) => `cam-${uniqueSuffix()}-${n}`);
    // Submitted in the same turn of the event loop: they all join the first flush.
    const outcomes = await Promise.all(
      devices.map((deviceId, index) => writer.store(batch(deviceId, range(1, 1 + (index % 3))))),
    );

    expect(writer.flushes).toBe(1);
    expect(outcomes).toEqual(devices.map((_, index) => ({ inserted: 1 + (index % 3), newLossRanges: 0 })));
    for (const [index, deviceId] of devices.entries())
      expect(await storedSeqs(deviceId)).toEqual(range(1, 1 + (index % 3)));

    const frontiers = await repository.advanceFrontiers(devices);
    expect(frontiers).toEqual(
      devices.map((deviceId, index) => ({ deviceId, highestContiguousSeq: 1 + (index % 3), advanced: true })),
    );
    // Nothing new: the frontiers stay and are not raised again.
    expect((await repository.advanceFrontiers(devices)).every((frontier) => !frontier.advanced)).toBe(true);
  });

  it('stores a redelivered batch once, in the same flush and in a later one', async () => {
    const writer = new EventBatchWriter(repository);
    const deviceId = `cam-${uniqueSuffix()}`;
    const [first, again] = await Promise.all([
      writer.store(batch(deviceId, [1, 2, 3])),
      writer.store(batch(deviceId, [2, 3, 4])),
    ]);
    expect(writer.flushes).toBe(1);
    expect(first).toEqual({ inserted: 3, newLossRanges: 0 });
    expect(again).toEqual({ inserted: 1, newLossRanges: 0 });

    expect(await writer.store(batch(deviceId, [1, 2, 3, 4]))).toEqual({ inserted: 0, newLossRanges: 0 });
    expect(await storedSeqs(deviceId)).toEqual([1, 2, 3, 4]);
  });

  it('fails only the batch the database rejects and stores the others of its flush', async () => {
    const writer = new EventBatchWriter(repository);
    const [good1, bad, good2] = ['good-a', 'bad', 'good-b'].map((name) => `cam-${uniqueSuffix()}-${name}`);
    const rejected = batch(bad ?? '', [1, 2]);
    // PostgreSQL text cannot hold a NUL character: the whole multi-row statement fails on this row.
    rejected.events[1] = { ...event(2), label: 'Happi\u0000ness' };
    const outcomes = await Promise.allSettled([
      writer.store(batch(good1 ?? '', [1, 2])),
      writer.store(rejected),
      writer.store(batch(good2 ?? '', [1], [{ fromSeq: 2, toSeq: 5 }])),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[2]).toEqual({ status: 'fulfilled', value: { inserted: 1, newLossRanges: 1 } });
    expect(await storedSeqs(good1 ?? '')).toEqual([1, 2]);
    expect(await storedSeqs(good2 ?? '')).toEqual([1]);
    // Atomic per batch: the rejected batch's valid event is not stored either.
    expect(await storedSeqs(bad ?? '')).toEqual([]);
  });

  it('computes each device of a round from its own stored rows, gaps and declared losses', async () => {
    const [gap, lost, none] = ['gap', 'lost', 'none'].map((name) => `cam-${uniqueSuffix()}-${name}`);
    const writer = new EventBatchWriter(repository);
    await Promise.all([
      writer.store(batch(gap ?? '', [1, 2, 4, 5])),
      writer.store(batch(lost ?? '', [4, 5], [{ fromSeq: 1, toSeq: 3 }])),
    ]);

    expect(await repository.advanceFrontiers([gap ?? '', lost ?? '', none ?? ''])).toEqual([
      { deviceId: gap, highestContiguousSeq: 2, advanced: true },
      { deviceId: lost, highestContiguousSeq: 5, advanced: true },
      { deviceId: none, highestContiguousSeq: 0, advanced: false },
    ]);

    // Filling the gap moves the frontier over everything stored above it.
    expect(await writer.store(batch(gap ?? '', [3]))).toEqual({ inserted: 1, newLossRanges: 0 });
    expect(await repository.advanceFrontiers([gap ?? ''])).toEqual([
      { deviceId: gap, highestContiguousSeq: 5, advanced: true },
    ]);
  });
});
