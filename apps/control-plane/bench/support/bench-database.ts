import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { SYNTHETIC_LABELS } from '@emofleet/agent';
import { hashSecret } from '../../src/auth/token-secret';
import { type ProvisionedDevice } from './simulated-fleet';

/**
 * Per device: the highest seq created when the measurement ended and when the fleet stopped, and the highest
 * seq the control plane had acknowledged when it stopped.
 */
export interface ExpectedEvents {
  deviceId: string;
  appendedAtMeasurementEnd: number;
  appendedAtStop: number;
  acknowledgedAtStop: number;
}

export interface EventStorageCheck {
  /** Events created by the end of the measurement (seq 1..n per device): each must be stored once. */
  expected: number;
  storedOfExpected: number;
  /** Expected events the control plane acknowledged to their device but did not store: lost. */
  lostAfterAcknowledgement: number;
  /** Expected events neither stored nor acknowledged when the fleet stopped: still in the devices' spools. */
  undelivered: number;
  devicesMissingEvents: number;
  /** Rows sharing a (device, seq) with another row. */
  duplicateRows: number;
  /** Rows no simulated device created (unknown device, or a seq above what it created by the stop). */
  unexpectedRows: number;
  /** Up to `UNEXPECTED_ROWS_SAMPLE` of them, as `device seq N (why)`, to tell the two causes apart. */
  unexpectedSample: string[];
  /** Events the devices declared lost (spool overflow). */
  declaredLost: number;
  storedRows: number;
}

export interface TelemetryStorageCheck {
  published: number;
  stored: number;
  devicesDiffering: number;
}

/** The id and start-time span of the stored events (for query parameters). */
export interface StoredEventSpan {
  minId: number;
  maxId: number;
  firstStartedAt: Date;
  lastStartedAt: Date;
  rows: number;
}

/** Days the synthetic fill spreads its events over, ending where the live run began. */
export const FILL_HISTORY_DAYS = 30;
/** Seqs of filled rows start above this, clear of the seqs the live run produced. */
const FILL_SEQ_BASE = 1_000_000_000;
const FILL_CHUNK_ROWS = 250_000;
/**
 * The bench's own checks and fills end within minutes on a loaded machine; a statement that outlives this was
 * stuck (a lock, a server that stopped answering) and fails the run with a message instead of hanging it.
 */
const BENCH_STATEMENT_TIMEOUT_MS = 10 * 60_000;
const BENCH_CONNECT_TIMEOUT_MS = 30_000;
const UNEXPECTED_ROWS_SAMPLE = 5;

/** A fresh PostgreSQL database for one bench run (created from `adminUrl`, dropped by `drop`). */
export class BenchDatabase {
  private constructor(
    readonly url: string,
    private readonly name: string,
    private readonly adminUrl: string,
    private readonly pool: Pool,
  ) {}

  static async create(adminUrl: string): Promise<BenchDatabase> {
    const name = `emofleet_bench_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return new BenchDatabase(
      url.toString(),
      name,
      adminUrl,
      new Pool({
        connectionString: url.toString(),
        max: 2,
        connectionTimeoutMillis: BENCH_CONNECT_TIMEOUT_MS,
        statement_timeout: BENCH_STATEMENT_TIMEOUT_MS,
        query_timeout: BENCH_STATEMENT_TIMEOUT_MS + 5000,
      }),
    );
  }

  async drop(): Promise<void> {
    await this.pool.end();
    const admin = new Client({ connectionString: this.adminUrl });
    await admin.connect();
    try {
      await admin.query(`drop database if exists ${this.name} with (force)`);
    } finally {
      await admin.end();
    }
  }

  /**
   * Registers the devices (simulated, with tags) directly, as enrolment would. With `secret`, every device gets it
   * as its credential (stored as enrolment stores it), which artifact downloads need; the broker is the private
   * Mosquitto, whose accounts the control plane does not manage, so it checks none.
   */
  async provisionDevices(
    devices: readonly ProvisionedDevice[],
    options: { secret?: string } = {},
  ): Promise<void> {
    const ids = devices.map((device) => device.id);
    await this.pool.query(
      `insert into devices (id, name, tags, simulated)
       select id, id, tags::jsonb, true from unnest($1::text[], $2::text[]) as provisioned(id, tags)`,
      [ids, devices.map((device) => JSON.stringify(device.tags))],
    );
    if (options.secret !== undefined)
      await this.pool.query(
        `insert into device_credentials (device_id, secret_hash) select id, $2 from unnest($1::text[]) as ids(id)`,
        [ids, hashSecret(options.secret)],
      );
  }

  /**
   * Checks the stored events against what the devices created. `readExpected` is called after the database
   * snapshot every query reads is taken (one repeatable-read transaction): a row the check sees was stored, so
   * created, before the devices' counters were read, and a fleet that keeps running cannot make a seq look
   * unexpected.
   */
  async checkEventStorage(
    readExpected: () => Promise<readonly ExpectedEvents[]> | readonly ExpectedEvents[],
  ): Promise<EventStorageCheck> {
    const client = await this.pool.connect();
    try {
      await client.query('begin isolation level repeatable read read only');
      // The snapshot is taken by the transaction's first statement.
      await client.query('select 1');
      const expected = await readExpected();
      const rows = async <T>(text: string, values: unknown[]): Promise<T[]> =>
        (await client.query(text, values)).rows as T[];
      const check = await this.eventStorageIn(rows, expected);
      await client.query('commit');
      return check;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async eventStorageIn(
    query: <T>(text: string, values: unknown[]) => Promise<T[]>,
    expected: readonly ExpectedEvents[],
  ): Promise<EventStorageCheck> {
    const parameters = [
      expected.map((device) => device.deviceId),
      expected.map((device) => device.appendedAtMeasurementEnd),
      expected.map((device) => device.appendedAtStop),
      expected.map((device) => device.acknowledgedAtStop),
    ];
    const expectedTable = `expected(device_id, appended, appended_at_stop, acknowledged) as (
      select * from unnest($1::text[], $2::int8[], $3::int8[], $4::int8[]))`;
    const [coverage] = await query<{
      expected: string;
      stored: string;
      acknowledged: string;
      stored_acknowledged: string;
      devices_missing: string;
    }>(
      `with ${expectedTable},
       per_device as (
         -- One join and one pass over the events (not a count per device): the table grew during the run, and
         -- with statistics from when it was small the planner would scan it once per device.
         select e.appended, least(e.appended, e.acknowledged) as acknowledged,
           count(ev.seq) filter (where ev.seq between 1 and e.appended) as stored,
           count(ev.seq) filter (where ev.seq between 1 and least(e.appended, e.acknowledged))
             as stored_acknowledged
         from expected e left join emotion_events ev on ev.device_id = e.device_id
         group by e.device_id, e.appended, e.acknowledged)
       select coalesce(sum(appended), 0)::int8 as expected, coalesce(sum(stored), 0)::int8 as stored,
         coalesce(sum(acknowledged), 0)::int8 as acknowledged,
         coalesce(sum(stored_acknowledged), 0)::int8 as stored_acknowledged,
         count(*) filter (where stored < appended)::int8 as devices_missing
       from per_device`,
      parameters,
    );
    const [rows] = await query<{ total: string; distinct_keys: string; unexpected: string }>(
      `with ${expectedTable}
       select count(*)::int8 as total, count(distinct (ev.device_id, ev.seq))::int8 as distinct_keys,
         count(*) filter (where e.device_id is null or ev.seq < 1 or ev.seq > e.appended_at_stop)::int8
           as unexpected
       from emotion_events ev left join expected e on e.device_id = ev.device_id`,
      parameters,
    );
    const sample = await query<{ device_id: string; seq: string; appended_at_stop: string | null }>(
      `with ${expectedTable}
       select ev.device_id, ev.seq::int8 as seq, e.appended_at_stop::int8 as appended_at_stop
       from emotion_events ev left join expected e on e.device_id = ev.device_id
       where e.device_id is null or ev.seq < 1 or ev.seq > e.appended_at_stop
       order by ev.device_id, ev.seq limit ${UNEXPECTED_ROWS_SAMPLE}`,
      parameters,
    );
    const [lost] = await query<{ lost: string }>(
      'select coalesce(sum(to_seq - from_seq + 1), 0)::int8 as lost from event_sequence_losses',
      [],
    );
    const expectedEvents = Number(coverage?.expected ?? 0);
    const stored = Number(coverage?.stored ?? 0);
    const lostAfterAcknowledgement =
      Number(coverage?.acknowledged ?? 0) - Number(coverage?.stored_acknowledged ?? 0);
    return {
      expected: expectedEvents,
      storedOfExpected: stored,
      lostAfterAcknowledgement,
      undelivered: expectedEvents - stored - lostAfterAcknowledgement,
      devicesMissingEvents: Number(coverage?.devices_missing ?? 0),
      duplicateRows: Number(rows?.total ?? 0) - Number(rows?.distinct_keys ?? 0),
      unexpectedRows: Number(rows?.unexpected ?? 0),
      unexpectedSample: sample.map(
        (row) =>
          `${row.device_id} seq ${row.seq} (${
            row.appended_at_stop === null ? 'no such device' : `it had created ${row.appended_at_stop}`
          })`,
      ),
      declaredLost: Number(lost?.lost ?? 0),
      storedRows: Number(rows?.total ?? 0),
    };
  }

  /** Transactions committed in this database so far (every statement outside a transaction is one). */
  async committedTransactions(): Promise<number> {
    const [row] = await this.rows<{ commits: string }>(
      'select xact_commit::int8 as commits from pg_stat_database where datname = current_database()',
    );
    return Number(row?.commits ?? 0);
  }

  async serverVersion(): Promise<string> {
    const [row] = await this.rows<{ server_version: string }>('show server_version');
    return row?.server_version ?? 'unknown';
  }

  async telemetrySampleCount(): Promise<number> {
    const [row] = await this.rows<{ count: string }>('select count(*)::int8 as count from telemetry_samples');
    return Number(row?.count ?? 0);
  }

  /** Windows each device published against the rows stored for it. */
  async checkTelemetryStorage(
    published: readonly { deviceId: string; windows: number }[],
  ): Promise<TelemetryStorageCheck> {
    const [row] = await this.rows<{ published: string; stored: string; differing: string }>(
      `with published(device_id, windows) as (select * from unnest($1::text[], $2::int8[])),
       stored as (select device_id, count(*) as windows from telemetry_samples group by device_id)
       select coalesce(sum(p.windows), 0)::int8 as published,
         (select count(*) from telemetry_samples)::int8 as stored,
         count(*) filter (where coalesce(s.windows, 0) <> p.windows)::int8 as differing
       from published p left join stored s on s.device_id = p.device_id`,
      [published.map((device) => device.deviceId), published.map((device) => device.windows)],
    );
    return {
      published: Number(row?.published ?? 0),
      stored: Number(row?.stored ?? 0),
      devicesDiffering: Number(row?.differing ?? 0),
    };
  }

  /**
   * Synthetic fill: adds rows until `emotion_events` holds `targetRows`, spread evenly over the
   * `FILL_HISTORY_DAYS` before `historyEnd` across the devices `<idPrefix>-1 … -<devices>`, with the synthetic
   * detector's labels, random scores and durations; then VACUUM ANALYZE (as autovacuum would after a load).
   * Returns the rows added.
   */
  async fillEvents(
    targetRows: number,
    fleet: { idPrefix: string; devices: number },
    historyEnd: Date,
    progress: (rowsAdded: number, rowsToAdd: number) => void,
  ): Promise<number> {
    const [current] = await this.rows<{ count: string }>(
      'select count(*)::int8 as count from emotion_events',
    );
    const toAdd = Math.max(0, targetRows - Number(current?.count ?? 0));
    const historyStart = new Date(historyEnd.getTime() - FILL_HISTORY_DAYS * 86_400_000);
    for (let from = 1; from <= toAdd; from += FILL_CHUNK_ROWS) {
      const to = Math.min(toAdd, from + FILL_CHUNK_ROWS - 1);
      await this.pool.query(
        `insert into emotion_events (device_id, seq, label, score, box, started_at, duration_ms, frame_index,
           model_id, track_id, received_at)
         select $1 || '-' || (1 + g % $2), $3::int8 + g,
           ($4::text[])[1 + floor(random() * cardinality($4::text[]))::int],
           0.5 + random() * 0.5,
           jsonb_build_object('x', round(random()::numeric * 0.6, 3), 'y', 0.25, 'width', 0.25, 'height', 0.3),
           started, 500 + floor(random() * 9500)::int8, g * 10, 'bench-model', g, started + interval '2 s'
         from generate_series($5::int8, $6::int8) g,
           lateral (select $7::timestamptz + (g::float8 / $8) * ($9::timestamptz - $7::timestamptz)
             as started) t`,
        [
          fleet.idPrefix,
          fleet.devices,
          FILL_SEQ_BASE,
          [...SYNTHETIC_LABELS],
          from,
          to,
          historyStart.toISOString(),
          toAdd,
          historyEnd.toISOString(),
        ],
      );
      progress(to, toAdd);
    }
    await this.pool.query('vacuum analyze emotion_events');
    return toAdd;
  }

  async storedEventSpan(): Promise<StoredEventSpan> {
    const [row] = await this.rows<{
      min_id: string;
      max_id: string;
      first_started: Date;
      last_started: Date;
      rows: string;
    }>(
      `select min(id)::int8 as min_id, max(id)::int8 as max_id, min(started_at) as first_started,
         max(started_at) as last_started, count(*)::int8 as rows from emotion_events`,
    );
    if (row === undefined || row.rows === '0') throw new Error('no events are stored: nothing to query');
    return {
      minId: Number(row.min_id),
      maxId: Number(row.max_id),
      firstStartedAt: row.first_started,
      lastStartedAt: row.last_started,
      rows: Number(row.rows),
    };
  }

  /** The rows of one statement on the bench's pool (for checks that live beside their bench). */
  async rows<T>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(text, values)).rows as T[];
  }
}
