import { type TelemetryMessage } from '@emofleet/protocol';
import { eq } from 'drizzle-orm';
import { type DatabaseConnection } from '../src/database/database-connection';
import { devices } from '../src/database/schema';
import { DevicePresenceWriter } from '../src/devices/device-presence-writer';
import {
  type DeviceBirthRecord,
  DevicesRepository,
  type DeviceSessionState,
} from '../src/devices/devices.repository';
import { TelemetryRepository } from '../src/telemetry/telemetry.repository';
import { range } from './support/event-device';
import {
  openTestDatabase,
  type TestDatabaseConnection,
  type TestDatabaseMode,
} from './support/test-database-connection';
import { uniqueSuffix } from './support/test-environment';

jest.setTimeout(60_000);

/**
 * Births and session states applied in batches (`DevicePresenceWriter` over `DevicesRepository.applyPresence`), on
 * PostgreSQL and on the embedded PGlite: a connection storm costs a few transactions, and the presence rules hold
 * whatever order a batch holds its births and states in.
 */
describe.each<TestDatabaseMode>(['postgres', 'pglite'])('device presence batches on %s', (mode) => {
  let connection: DatabaseConnection;
  let repository: DevicesRepository;
  let database: TestDatabaseConnection;

  beforeAll(async () => {
    database = await openTestDatabase(mode);
    connection = database.connection;
    repository = new DevicesRepository(database.adapter);
  });

  afterAll(async () => {
    await database?.close();
  });

  const birth = (
    deviceId: string,
    sessionSeq: number,
    model?: string,
  ): { kind: 'birth' } & DeviceBirthRecord => ({
    kind: 'birth',
    deviceId,
    sessionSeq,
    capabilities: { arch: 'aarch64', session: sessionSeq },
    simulated: true,
    runningModel: model === undefined ? null : { modelId: model, version: '1' },
    seenAt: new Date(),
  });
  const state = (
    deviceId: string,
    online: boolean,
    sessionSeq: number,
  ): { kind: 'state' } & DeviceSessionState => ({
    kind: 'state',
    deviceId,
    online,
    sessionSeq,
    seenAt: new Date(),
  });
  const row = async (deviceId: string) =>
    (await connection.db.select().from(devices).where(eq(devices.id, deviceId)))[0];

  it("applies a storm of many devices' births and states in a few transactions", async () => {
    const writer = new DevicePresenceWriter(repository);
    const ids = range(1, 1500).map((n) => `storm-${uniqueSuffix()}-${n}`);
    // Submitted in the same turn of the event loop, like retained messages after a restart.
    const applied = await Promise.all(
      ids.flatMap((id) => [writer.apply(birth(id, 1, 'expr')), writer.apply(state(id, true, 1))]),
    );
    expect(applied.every(Boolean)).toBe(true);
    // 3,000 updates, at most 1,000 per transaction.
    expect(writer.flushes).toBe(3);
    const stored = await row(ids[1234] ?? '');
    expect(stored).toMatchObject({
      online: true,
      sessionSeq: 1,
      simulated: true,
      currentModel: { modelId: 'expr', version: '1' },
      capabilities: { arch: 'aarch64', session: 1 },
    });
  });

  it('keeps a device offline when the same batch holds the birth and the offline state of its session, in either order', async () => {
    const first = `order-a-${uniqueSuffix()}`;
    const second = `order-b-${uniqueSuffix()}`;
    const answers = await repository.applyPresence([
      birth(first, 5),
      state(first, false, 5),
      state(second, false, 5),
      birth(second, 5),
    ]);
    // Births are written first, so both states find their device, of the same session: both stay offline.
    expect(answers).toEqual([true, true, true, true]);
    expect(await row(first)).toMatchObject({ online: false, sessionSeq: 5 });
    expect(await row(second)).toMatchObject({ online: false, sessionSeq: 5 });
    // A redelivered birth of that session still leaves it offline; the next session's brings it online.
    await repository.applyPresence([birth(second, 5)]);
    expect((await row(second))?.online).toBe(false);
    await repository.applyPresence([birth(second, 6)]);
    expect((await row(second))?.online).toBe(true);
  });

  it("applies only the newest session's update of each kind per device, and ignores an older session's will", async () => {
    const id = `newest-${uniqueSuffix()}`;
    await repository.applyPresence([birth(id, 1)]);
    const answers = await repository.applyPresence([
      birth(id, 3, 'new'),
      birth(id, 2, 'old'),
      state(id, false, 2),
      state(id, true, 3),
      state(id, false, 1),
    ]);
    expect(answers).toEqual([true, false, false, true, false]);
    expect(await row(id)).toMatchObject({ online: true, sessionSeq: 3, currentModel: { modelId: 'new' } });
    // A late will of session 2 does not mark the session-3 device offline.
    expect(await repository.applyPresence([state(id, false, 2)])).toEqual([false]);
    expect((await row(id))?.online).toBe(true);
  });

  it('never deadlocks with telemetry snapshots updating the same devices at the same time', async () => {
    const telemetry = new TelemetryRepository(database.adapter);
    const ids = range(1, 300).map((n) => `locks-${uniqueSuffix()}-${String(n).padStart(3, '0')}`);
    await repository.applyPresence(ids.map((id) => birth(id, 1)));
    const snapshots = (order: readonly string[]) =>
      order.map((deviceId, index) => ({
        // Only the fields the snapshot update reads: the device and the window it stores as the latest.
        message: { v: 1, deviceId, windowStart: index, windowMs: 1000 } as unknown as TelemetryMessage,
        receivedAt: new Date(),
      }));
    const reversed = [...ids].reverse();
    // Births upsert in their input order, the snapshot update in the join's: opposite orders, many rounds.
    for (let round = 2; round < 12; round++) {
      await Promise.all([
        repository.applyPresence(reversed.map((id) => birth(id, round))),
        telemetry.updateLatestSnapshots(snapshots(ids)),
        repository.applyPresence(ids.map((id) => state(id, true, round))),
        telemetry.updateLatestSnapshots(snapshots(reversed)),
      ]);
    }
    expect(await row(ids[0] ?? '')).toMatchObject({ online: true, sessionSeq: 11 });
  });

  it('changes nothing for a decommissioned device', async () => {
    const id = `gone-${uniqueSuffix()}`;
    await repository.applyPresence([birth(id, 1)]);
    await repository.decommission(id);
    const answers = await repository.applyPresence([birth(id, 2, 'late'), state(id, true, 2)]);
    expect(answers[1]).toBe(false);
    expect(await row(id)).toMatchObject({ online: false, sessionSeq: 1, currentModel: null });
  });
});
