import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYNTHETIC_LABELS } from '@emofleet/agent';
import { Client } from 'pg';
import { openDatabase } from '../../src/database/database-connection';
import { testServices } from '../../test/support/test-environment';
import { BenchDatabase, FILL_HISTORY_DAYS } from '../support/bench-database';
import { deliveryProblems } from './ingest-bench-result';

jest.setTimeout(60_000);

/** The checks behind the bench's "nothing lost, nothing duplicated" verdict, on a real PostgreSQL. */
describe('bench:ingest delivery checks (PostgreSQL)', () => {
  let database: BenchDatabase;
  let client: Client;

  beforeEach(async () => {
    database = await BenchDatabase.create(testServices.databaseUrl);
    const dataDir = mkdtempSync(join(tmpdir(), 'emofleet-bench-test-'));
    const migrated = await openDatabase(database.url, dataDir);
    await migrated.close();
    rmSync(dataDir, { recursive: true, force: true });
    client = new Client({ connectionString: database.url });
    await client.connect();
    await database.provisionDevices([
      { id: 'bench-1', tags: { site: 'site-1' } },
      { id: 'bench-2', tags: { site: 'site-2' } },
    ]);
  });

  afterEach(async () => {
    await client.end();
    await database.drop();
  });

  const storeEvents = async (rows: [deviceId: string, seq: number][]) => {
    for (const [deviceId, seq] of rows) {
      await client.query(
        `insert into emotion_events (device_id, seq, label, score, box, started_at, duration_ms, frame_index,
           model_id) values ($1, $2, 'happy', 0.8, '{"x":0,"y":0,"width":1,"height":1}', now(), 500, 0, 'm')`,
        [deviceId, seq],
      );
    }
  };

  const storeTelemetry = async (deviceId: string, windows: number) => {
    await client.query(
      `insert into telemetry_samples (device_id, window_start, window_ms, received_at, frames_processed,
         frames_dropped, fps, cpu_percent, rss_bytes, spool_depth)
       select $1, now() - g * interval '1 s', 1000, now(), 2, 0, 2, 1, 1000, 0 from generate_series(1, $2) g`,
      [deviceId, windows],
    );
  };

  it('passes when every seq 1..n and every window is stored once', async () => {
    await storeEvents([
      ['bench-1', 1],
      ['bench-1', 2],
      ['bench-2', 1],
      // Created after the measurement ended (below the count at the stop): allowed.
      ['bench-2', 2],
    ]);
    await storeTelemetry('bench-1', 3);
    await storeTelemetry('bench-2', 2);
    const events = await database.checkEventStorage(() => [
      { deviceId: 'bench-1', appendedAtMeasurementEnd: 2, appendedAtStop: 2, acknowledgedAtStop: 2 },
      { deviceId: 'bench-2', appendedAtMeasurementEnd: 1, appendedAtStop: 2, acknowledgedAtStop: 2 },
    ]);
    const telemetry = await database.checkTelemetryStorage([
      { deviceId: 'bench-1', windows: 3 },
      { deviceId: 'bench-2', windows: 2 },
    ]);
    expect(events).toEqual({
      expected: 3,
      storedOfExpected: 3,
      lostAfterAcknowledgement: 0,
      undelivered: 0,
      devicesMissingEvents: 0,
      duplicateRows: 0,
      unexpectedRows: 0,
      unexpectedSample: [],
      declaredLost: 0,
      storedRows: 4,
    });
    expect(telemetry).toEqual({ published: 5, stored: 5, devicesDiffering: 0 });
    expect(deliveryProblems(events, telemetry, 1.5)).toEqual([]);
  });

  it('reads the database as it was before the fleet was read: an event created and stored meanwhile is not unexpected', async () => {
    await storeEvents([['bench-1', 1]]);
    const events = await database.checkEventStorage(async () => {
      // The running device creates seq 2 and it is stored, after the check's snapshot and before its count.
      await storeEvents([['bench-1', 2]]);
      return [{ deviceId: 'bench-1', appendedAtMeasurementEnd: 1, appendedAtStop: 1, acknowledgedAtStop: 1 }];
    });
    expect(events).toMatchObject({ storedRows: 1, unexpectedRows: 0, unexpectedSample: [] });
  });

  it('tells lost events from undelivered ones, and reports stray rows, declared losses, missing windows', async () => {
    await storeEvents([
      ['bench-1', 1],
      ['bench-1', 3],
      ['bench-1', 9],
      ['stranger', 1],
      ['bench-2', 1],
    ]);
    await client.query(
      `insert into event_sequence_losses (device_id, from_seq, to_seq) values ('bench-1', 10, 12)`,
    );
    await storeTelemetry('bench-1', 2);
    const events = await database.checkEventStorage(() => [
      // Seq 2 was acknowledged but is not stored: lost.
      { deviceId: 'bench-1', appendedAtMeasurementEnd: 3, appendedAtStop: 4, acknowledgedAtStop: 3 },
      // Seqs 2 and 3 were never acknowledged: still in the device's spool.
      { deviceId: 'bench-2', appendedAtMeasurementEnd: 3, appendedAtStop: 3, acknowledgedAtStop: 1 },
    ]);
    const telemetry = await database.checkTelemetryStorage([
      { deviceId: 'bench-1', windows: 2 },
      { deviceId: 'bench-2', windows: 1 },
    ]);
    expect(events).toMatchObject({
      expected: 6,
      storedOfExpected: 3,
      lostAfterAcknowledgement: 1,
      undelivered: 2,
      devicesMissingEvents: 2,
      unexpectedRows: 2,
      unexpectedSample: ['bench-1 seq 9 (it had created 4)', 'stranger seq 1 (no such device)'],
      declaredLost: 3,
    });
    expect(telemetry).toEqual({ published: 3, stored: 2, devicesDiffering: 1 });
    expect(deliveryProblems(events, telemetry, undefined)).toEqual([
      '1 events acknowledged to their devices but not stored: lost',
      "2 events not stored by the end of the drain: still in the devices' spools, so neither lost nor " +
        'confirmed (the control plane fell behind)',
      '2 event rows no device created',
      '3 events declared lost by devices',
      'events still unacknowledged at the drain time-out',
      'telemetry: 3 windows published, 2 stored (1 devices differ)',
    ]);
  });

  it('fills the events table to the target with rows of the fleet over the history before the run', async () => {
    await storeEvents([['bench-1', 1]]);
    const historyEnd = new Date('2026-11-27T12:00:00Z');
    const added = await database.fillEvents(5000, { idPrefix: 'bench', devices: 2 }, historyEnd, () => {});
    expect(added).toBe(4999);
    const span = await database.storedEventSpan();
    expect(span.rows).toBe(5000);
    const { rows } = await client.query<{ devices: string; earliest: Date; latest: Date; labels: string }>(
      `select count(distinct device_id)::int8 as devices, min(started_at) as earliest,
         max(started_at) as latest, count(distinct label)::int8 as labels
       from emotion_events where seq > 1000000000`,
    );
    expect(rows[0]).toMatchObject({ devices: '2', labels: String(SYNTHETIC_LABELS.length) });
    expect(rows[0]?.earliest.getTime()).toBeGreaterThanOrEqual(
      historyEnd.getTime() - FILL_HISTORY_DAYS * 86_400_000,
    );
    expect(rows[0]?.latest.getTime()).toBeLessThanOrEqual(historyEnd.getTime());
  });
});
