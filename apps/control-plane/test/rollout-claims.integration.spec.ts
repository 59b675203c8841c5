import { and, eq, sql } from 'drizzle-orm';
import { type DatabaseConnection } from '../src/database/database-connection';
import { rolloutTargets } from '../src/database/schema';
import {
  ACTION_CLAIM_RENEW_MS,
  ACTION_CLAIM_TIMEOUT_MS,
  RolloutTargetsRepository,
} from '../src/rollouts/rollout-targets.repository';
import { insertRunningRollout, insertTestModelVersion, TEST_ROLLOUT_MODEL } from './support/rollout-rows';
import { openTestDatabase, type TestDatabaseConnection } from './support/test-database-connection';
import { uniqueSuffix } from './support/test-environment';

/**
 * Claims on a target's start (PostgreSQL): a replica that died between claiming a device and issuing its install
 * (the fault suite's api kill mid-rollout) holds the claim only until it lapses, which a live replica's renewals
 * never let happen. Time is moved by back-dating the claim in the database, not by waiting. Also which actions are
 * due: the engine issues them in batches, in the rollout's order.
 */
describe('rollout target claims', () => {
  let database: TestDatabaseConnection;
  let connection: DatabaseConnection;
  let targets: RolloutTargetsRepository;
  const rolloutId = `rollout-${uniqueSuffix()}`;
  const deviceId = `device-${uniqueSuffix()}`;

  const backdateClaim = (byMs: number) =>
    connection.db
      .update(rolloutTargets)
      .set({ actionClaimedAt: sql`now() - ${byMs} * interval '1 millisecond'` })
      .where(and(eq(rolloutTargets.rolloutId, rolloutId), eq(rolloutTargets.deviceId, deviceId)));
  const claimAgeMs = async () => {
    const [row] = await connection.db
      .select({
        ageMs: sql<number>`extract(epoch from now() - ${rolloutTargets.actionClaimedAt}) * 1000`.mapWith(
          Number,
        ),
      })
      .from(rolloutTargets)
      .where(and(eq(rolloutTargets.rolloutId, rolloutId), eq(rolloutTargets.deviceId, deviceId)));
    return row?.ageMs;
  };

  const model = TEST_ROLLOUT_MODEL;
  const insertRollout = (id: string) => insertRunningRollout(connection.db, id, 'claims');

  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    connection = database.connection;
    targets = new RolloutTargetsRepository(database.adapter);
    await insertTestModelVersion(connection.db);
    await insertRollout(rolloutId);
    await connection.db
      .insert(rolloutTargets)
      .values({ rolloutId, deviceId, position: 0, state: 'installing', model, phaseIndex: 0 });
  });

  afterAll(async () => {
    await database?.close();
  });

  it('keeps a renewed claim and hands a lapsed one over to the next replica', async () => {
    expect((await targets.dueActions(rolloutId, 10)).map((due) => due.deviceId)).toEqual([deviceId]);
    expect(await targets.claim(rolloutId, [deviceId], 'start')).toMatchObject([{ deviceId }]);
    // Another replica (or the same after a restart) finds the start claimed.
    expect(await targets.claim(rolloutId, [deviceId], 'start')).toEqual([]);

    // The claiming replica is alive and still issuing: its heartbeat renews the claim before it lapses.
    await backdateClaim(ACTION_CLAIM_TIMEOUT_MS - ACTION_CLAIM_RENEW_MS);
    expect(await targets.renewClaims(rolloutId, [deviceId])).toBe(1);
    expect(await claimAgeMs()).toBeLessThan(ACTION_CLAIM_RENEW_MS);
    expect(await targets.claim(rolloutId, [deviceId], 'start')).toEqual([]);

    // The replica died (kill -9) before issuing the install: no renewal, the claim lapses and is taken over.
    await backdateClaim(ACTION_CLAIM_TIMEOUT_MS + 1000);
    expect(await targets.claim(rolloutId, [deviceId], 'start')).toMatchObject([{ deviceId, jobId: null }]);
    expect(await claimAgeMs()).toBeLessThan(ACTION_CLAIM_RENEW_MS);

    // Given back after a transient error: claimable at once, and there is nothing left to renew.
    await targets.release(rolloutId, [deviceId]);
    expect(await targets.renewClaims(rolloutId, [deviceId])).toBe(0);
    expect(await targets.claim(rolloutId, [deviceId], 'start')).toMatchObject([{ deviceId }]);
  });

  it('hands out due starts and rollbacks in the rollout order, at most as many as asked for', async () => {
    const id = `rollout-${uniqueSuffix()}`;
    await insertRollout(id);
    const target = (position: number, state: 'pending' | 'installing' | 'rolling-back' | 'healthy') => ({
      rolloutId: id,
      deviceId: `${id}-device-${position}`,
      position,
      state,
      model,
      phaseIndex: state === 'pending' ? null : 0,
    });
    // Inserted out of order; positions 1 and 4 are not due (pending, healthy), 5 has its job already.
    await connection.db
      .insert(rolloutTargets)
      .values([
        target(3, 'rolling-back'),
        target(0, 'installing'),
        target(4, 'healthy'),
        target(1, 'pending'),
        { ...target(5, 'installing'), jobId: 'issued-before' },
        target(2, 'installing'),
        target(6, 'installing'),
      ]);
    const due = async (limit: number) =>
      (await targets.dueActions(id, limit)).map((action) => `${action.deviceId.slice(-1)} ${action.action}`);
    expect(await due(2)).toEqual(['0 start', '2 start']);
    expect(await due(10)).toEqual(['0 start', '2 start', '3 rollback', '6 start']);
  });

  it('claims a batch in one statement, records its floors and jobs where still unrecorded, then observes statuses in bulk', async () => {
    const id = `rollout-${uniqueSuffix()}`;
    await insertRollout(id);
    const device = (n: number) => `${id}-device-${n}`;
    await connection.db.insert(rolloutTargets).values([
      { rolloutId: id, deviceId: device(0), position: 0, state: 'installing', model, phaseIndex: 0 },
      { rolloutId: id, deviceId: device(1), position: 1, state: 'installing', model, phaseIndex: 0 },
      { rolloutId: id, deviceId: device(2), position: 2, state: 'rolling-back', model, phaseIndex: 0 },
      { rolloutId: id, deviceId: device(3), position: 3, state: 'installing', model, phaseIndex: 0 },
    ]);
    // Another replica holds device 3's start.
    expect(await targets.claim(id, [device(3)], 'start')).toHaveLength(1);
    const claimed = await targets.claim(id, [device(1), device(3), device(2), device(0), 'unknown'], 'start');
    // In the order asked for; not the claimed one, nor the rollback, nor a device outside the rollout.
    expect(claimed.map((target) => target.deviceId)).toEqual([device(1), device(0)]);

    const gate = (minFps: number) => ({ minFps, minAccuracy: null, fpsBasis: 'test', accuracyBasis: null });
    const previous = { model: { modelId: 'old', version: '3' }, modelVersionId: null };
    await targets.recordPreviousAndGates(id, [
      { deviceId: device(0), previous, gate: gate(5) },
      { deviceId: device(1), previous: { model: null, modelVersionId: null }, gate: gate(6) },
    ]);
    // Recorded once: a second record (a retried step) changes nothing.
    await targets.recordPreviousAndGates(id, [{ deviceId: device(0), previous, gate: gate(99) }]);
    const job = (jobId: string, desiredVersion: number) => ({
      jobId,
      status: 'QUEUED' as const,
      versionNumber: 1,
      statusDetails: { reason: 'queued' },
      desiredVersion,
    });
    await targets.recordJobs(id, 'start', [
      { deviceId: device(0), job: job('job-0', 4) },
      { deviceId: device(1), job: job('job-1', 1) },
    ]);
    await targets.recordJobs(id, 'start', [{ deviceId: device(0), job: job('job-0-again', 5) }]);
    await targets.recordJobs(id, 'rollback', [{ deviceId: device(2), job: job('rollback-2', 2) }]);

    // Statuses observed together: of two of one job the newest is recorded, whatever their order; each
    // observation names the rollouts it concerned; a job no target has concerns none.
    const status = (jobId: string, versionNumber: number, jobStatus: 'IN_PROGRESS' | 'SUCCEEDED') => ({
      ...job(jobId, 0),
      status: jobStatus,
      versionNumber,
      statusDetails: { step: jobStatus === 'SUCCEEDED' ? ('RUNNING' as const) : ('DOWNLOADING' as const) },
    });
    expect(
      await targets.observeMany([
        status('job-1', 3, 'SUCCEEDED'),
        status('job-1', 2, 'IN_PROGRESS'),
        status('rollback-2', 2, 'IN_PROGRESS'),
        status('no-such-job', 2, 'IN_PROGRESS'),
      ]),
    ).toEqual([[id], [id], [id], []]);
    // A finished status is never replaced, nor a newer one by an older.
    expect(
      await targets.observeMany([status('job-1', 4, 'IN_PROGRESS'), status('rollback-2', 1, 'IN_PROGRESS')]),
    ).toEqual([[], []]);
    const rows = await connection.db.select().from(rolloutTargets).where(eq(rolloutTargets.rolloutId, id));
    const row = (n: number) => rows.find((target) => target.deviceId === device(n));
    expect(row(0)).toMatchObject({
      previous,
      gate: gate(5),
      jobId: 'job-0',
      jobStatus: 'QUEUED',
      jobVersion: 1,
      jobDetails: { reason: 'queued' },
      jobDesiredVersion: 4,
    });
    expect(row(1)).toMatchObject({
      previous: { model: null },
      gate: gate(6),
      jobId: 'job-1',
      jobStatus: 'SUCCEEDED',
      jobVersion: 3,
      jobDetails: { step: 'RUNNING' },
    });
    expect(row(2)).toMatchObject({
      jobId: null,
      rollbackJobId: 'rollback-2',
      rollbackJobStatus: 'IN_PROGRESS',
      rollbackJobVersion: 2,
    });
    expect(row(3)).toMatchObject({ previous: null, jobId: null });
    expect((await targets.dueActions(id, 10)).map((due) => due.deviceId)).toEqual([device(3)]);
  });
});
