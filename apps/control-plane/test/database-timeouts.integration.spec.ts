import { sql } from 'drizzle-orm';
import { Client } from 'pg';
import { type DatabaseTimeouts } from '../src/config/app-config';
import { type DatabaseConnection } from '../src/database/database-connection';
import { findDatabaseTimeout } from '../src/database/database-timeouts';
import { EventBatchWriter, FLUSH_TIMEOUT_ATTEMPTS } from '../src/events/event-batch-writer';
import { EventsRepository } from '../src/events/events.repository';
import { event, range } from './support/event-device';
import { openTestDatabase, type PostgresTestDatabaseConnection } from './support/test-database-connection';
import { uniqueSuffix } from './support/test-environment';

jest.setTimeout(60_000);

/**
 * The PostgreSQL pool's time limits on the real server. Every sleep is several times its limit, so the outcomes
 * do not depend on how busy the machine is: a statement either ends far beyond its limit or far within it.
 */
describe('PostgreSQL time limits', () => {
  const cleanups: Array<() => Promise<void>> = [];

  /** A fresh database behind a pool with these limits. */
  const openWith = async (timeouts: Partial<DatabaseTimeouts>): Promise<PostgresTestDatabaseConnection> => {
    const database = await openTestDatabase('postgres', {
      timeouts: {
        statementMs: 300,
        queryMs: 10_000,
        connectMs: 5000,
        maintenanceStatementMs: 20_000,
        ...timeouts,
      },
    });
    cleanups.push(() => database.close());
    return database;
  };
  const open = async (timeouts: Partial<DatabaseTimeouts>): Promise<DatabaseConnection> =>
    (await openWith(timeouts)).connection;
  const scalar = async (connection: DatabaseConnection | DatabaseConnection['db'], query: string) => {
    const db = 'db' in connection ? connection.db : connection;
    const result: unknown = await db.execute(sql.raw(query));
    return (result as { rows: Array<{ value: unknown }> }).rows[0]?.value;
  };
  const failure = async (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => {
        throw new Error('expected the statement to fail');
      },
      (error: unknown) => error,
    );

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('cancels a statement at DATABASE_STATEMENT_TIMEOUT_MS with an error naming it; the pool stays usable', async () => {
    const connection = await open({ statementMs: 300 });
    // As many sleeping statements as the pool has connections: every connection meets the limit once.
    const errors = await Promise.all(
      range(1, 10).map(() => failure(scalar(connection, 'select pg_sleep(3)::text as value'))),
    );
    for (const error of errors) {
      const timeout = findDatabaseTimeout(error);
      expect(timeout).toMatchObject({ kind: 'statement', limitMs: 300, code: '57014' });
      expect(timeout?.message).toContain('statement_timeout of 300 ms');
      expect(timeout?.message).toContain('DATABASE_STATEMENT_TIMEOUT_MS');
    }
    expect(await Promise.all(range(1, 12).map((n) => scalar(connection, `select ${n} as value`)))).toEqual(
      range(1, 12),
    );
    expect(await scalar(connection, "select current_setting('statement_timeout') as value")).toBe('300ms');
  });

  it('stops waiting at DATABASE_QUERY_TIMEOUT_MS when the server does not answer, and replaces that connection', async () => {
    // The server's limit far above the client's: the client's limit is the one met.
    const connection = await open({ statementMs: 20_000, queryMs: 400 });
    const error = await failure(scalar(connection, 'select pg_sleep(3)::text as value'));
    const timeout = findDatabaseTimeout(error);
    expect(timeout).toMatchObject({ kind: 'query', limitMs: 400, configKey: 'DATABASE_QUERY_TIMEOUT_MS' });
    expect(timeout?.message).toContain('query_timeout of 400 ms');
    expect(await Promise.all(range(1, 12).map((n) => scalar(connection, `select ${n} as value`)))).toEqual(
      range(1, 12),
    );
  });

  it('gives maintenance transactions DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS with SET LOCAL, and only them', async () => {
    const connection = await open({ statementMs: 300, maintenanceStatementMs: 20_000 });
    const inside = await connection.maintenance(async (db) => {
      await scalar(db, 'select pg_sleep(1.5)::text as value');
      return scalar(db, "select current_setting('statement_timeout') as value");
    });
    expect(inside).toBe('20s');
    // SET LOCAL ended with the transaction: the pooled connections are back at the usual limit.
    const after = await Promise.all(
      range(1, 10).map(() => scalar(connection, "select current_setting('statement_timeout') as value")),
    );
    expect(new Set(after)).toEqual(new Set(['300ms']));

    const tight = await open({ statementMs: 100, queryMs: 10_000, maintenanceStatementMs: 300 });
    const error = await failure(tight.maintenance((db) => scalar(db, 'select pg_sleep(3)::text as value')));
    expect(findDatabaseTimeout(error)).toMatchObject({
      kind: 'statement',
      limitMs: 300,
      configKey: 'DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS',
    });
  });

  describe('event flushes', () => {
    let database: PostgresTestDatabaseConnection;
    let connection: DatabaseConnection;
    let writer: EventBatchWriter;
    let blocker: Client;

    beforeAll(async () => {
      database = await openWith({ statementMs: 300 });
      connection = database.connection;
      writer = new EventBatchWriter(new EventsRepository(database.adapter));
    });
    beforeEach(async () => {
      blocker = new Client({ connectionString: database.url });
      await blocker.connect();
    });
    afterEach(async () => {
      await blocker.end();
    });

    const storedSeqs = async (deviceId: string): Promise<number[]> => {
      const result: unknown = await connection.db.execute(
        sql`select seq::int8 as seq from emotion_events where device_id = ${deviceId} order by seq`,
      );
      return (result as { rows: Array<{ seq: string }> }).rows.map((row) => Number(row.seq));
    };
    /** Another session inserts (device, 1) and keeps its transaction open: inserting that row waits for it. */
    const block = async (deviceId: string) => {
      await blocker.query('begin');
      await blocker.query(
        `insert into emotion_events (device_id, seq, label, score, box, started_at, duration_ms, frame_index, model_id)
         values ($1, 1, 'Happiness', 0.5, '{}', now(), 1, 1, 'm')`,
        [deviceId],
      );
    };
    const batch = (deviceId: string) => ({ deviceId, events: range(1, 3).map(event), lost: [] });

    it('tries a timed-out flush again and stores every event of it', async () => {
      const deviceId = `cam-${uniqueSuffix()}`;
      const other = `cam-${uniqueSuffix()}`;
      await block(deviceId);
      // The blocking session ends as the first attempt's time-out comes back, before the writer sees it.
      const repository = new EventsRepository(database.adapter);
      const storeBatches = repository.storeBatches.bind(repository);
      let released = false;
      jest.spyOn(repository, 'storeBatches').mockImplementation(async (batches) => {
        try {
          return await storeBatches(batches);
        } catch (error) {
          if (!released && findDatabaseTimeout(error)) {
            released = true;
            await blocker.query('rollback');
          }
          throw error;
        }
      });
      const retrying = new EventBatchWriter(repository);

      const stored = await Promise.all([retrying.store(batch(deviceId)), retrying.store(batch(other))]);

      expect(released).toBe(true);
      expect(retrying.flushTimeouts).toBe(1);
      expect(retrying.flushes).toBe(2);
      expect(stored).toEqual([
        { inserted: 3, newLossRanges: 0 },
        { inserted: 3, newLossRanges: 0 },
      ]);
      expect(await storedSeqs(deviceId)).toEqual([1, 2, 3]);
      expect(await storedSeqs(other)).toEqual([1, 2, 3]);
    });

    it(`fails a flush timed out ${FLUSH_TIMEOUT_ATTEMPTS} times without acknowledging it; the re-sent batch is stored whole`, async () => {
      const deviceId = `cam-${uniqueSuffix()}`;
      await block(deviceId);
      const timeoutsBefore = writer.flushTimeouts;
      const error = await failure(writer.store(batch(deviceId)));
      expect(findDatabaseTimeout(error)?.configKey).toBe('DATABASE_STATEMENT_TIMEOUT_MS');
      expect(writer.flushTimeouts - timeoutsBefore).toBe(FLUSH_TIMEOUT_ATTEMPTS);
      // Nothing of the batch was stored, so nothing was acknowledged: the device keeps it in its spool.
      await blocker.query('rollback');
      expect(await storedSeqs(deviceId)).toEqual([]);
      // The device sends it again (as its spool does until acknowledged), and the writer still works.
      expect(await writer.store(batch(deviceId))).toEqual({ inserted: 3, newLossRanges: 0 });
      expect(await storedSeqs(deviceId)).toEqual([1, 2, 3]);
    });
  });
});
