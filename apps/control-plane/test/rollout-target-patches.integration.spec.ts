import { asc, eq } from 'drizzle-orm';
import { rolloutTargets } from '../src/database/schema';
import { type TargetPatch } from '../src/rollouts/rollout-draft';
import { writeTargetPatches } from '../src/rollouts/target-patch-writes';
import { insertRunningRollout, insertTestModelVersion, TEST_ROLLOUT_MODEL } from './support/rollout-rows';
import {
  openTestDatabase,
  type TestDatabaseConnection,
  type TestDatabaseMode,
} from './support/test-database-connection';
import { uniqueSuffix } from './support/test-environment';

/**
 * A step's target patches written together (one UPDATE per patch shape), against PostgreSQL and the embedded
 * PGlite: every column a patch names gets its value (nulls, dates, numbers included), the others keep theirs,
 * and other rollouts' targets of the same devices are not touched.
 */
describe.each<TestDatabaseMode>(['postgres', 'pglite'])('rollout target patches with %s', (mode) => {
  let database: TestDatabaseConnection;
  const rolloutId = `rollout-${uniqueSuffix()}`;
  const otherRolloutId = `rollout-${uniqueSuffix()}`;
  const model = TEST_ROLLOUT_MODEL;
  const deviceIds = Array.from({ length: 6 }, (_, index) => `device-${index}`);

  beforeAll(async () => {
    database = await openTestDatabase(mode);
    const { db } = database.connection;
    await insertTestModelVersion(db);
    for (const id of [rolloutId, otherRolloutId]) {
      await insertRunningRollout(db, id, 'patches');
      await db.insert(rolloutTargets).values(
        deviceIds.map((deviceId, position) => ({
          rolloutId: id,
          deviceId,
          position,
          state: 'installing' as const,
          model,
          phaseIndex: 0,
          attempts: 1,
          jobId: `job-${deviceId}`,
          jobStatus: 'IN_PROGRESS' as const,
          actionError: 'was there before',
          measuredFps: 3.5,
        })),
      );
    }
  }, 30_000);

  afterAll(async () => {
    await database?.close();
  });

  it('writes every shape of patch for every device at once, leaving other columns and rollouts alone', async () => {
    const soakUntil = new Date('2026-11-29T05:00:00.123Z');
    const finishedAt = new Date('2026-11-29T05:01:00.456Z');
    const patches = new Map<string, TargetPatch>([
      ['device-0', { state: 'soaking', soakUntil, measuredFps: 11.25, sessionSeqAtSwitch: 2 ** 40 }],
      ['device-1', { state: 'soaking', soakUntil, measuredFps: null, sessionSeqAtSwitch: null }],
      ['device-2', { state: 'failed', failureType: 'install', failureReason: 'no camera', finishedAt }],
      [
        'device-3',
        {
          state: 'pending',
          attempts: 2,
          jobId: null,
          jobStatus: null,
          jobVersion: null,
          jobDetails: null,
          jobDesiredVersion: null,
          actionClaimedAt: null,
          actionError: null,
        },
      ],
      ['device-4', { state: 'healthy', finishedAt, soakUntil: null, failureReason: undefined }],
    ]);
    await database.connection.db.transaction((tx) => writeTargetPatches(tx, rolloutId, patches));

    const rows = await database.connection.db
      .select()
      .from(rolloutTargets)
      .where(eq(rolloutTargets.rolloutId, rolloutId))
      .orderBy(asc(rolloutTargets.position));
    const view = rows.map((row) => ({
      state: row.state,
      attempts: row.attempts,
      jobId: row.jobId,
      jobStatus: row.jobStatus,
      actionError: row.actionError,
      measuredFps: row.measuredFps,
      sessionSeqAtSwitch: row.sessionSeqAtSwitch,
      soakUntil: row.soakUntil?.toISOString() ?? null,
      finishedAt: row.finishedAt?.toISOString() ?? null,
      failureType: row.failureType,
      failureReason: row.failureReason,
    }));
    const untouched = {
      attempts: 1,
      jobId: expect.stringMatching(/^job-device-/),
      jobStatus: 'IN_PROGRESS',
      actionError: 'was there before',
      measuredFps: 3.5,
      sessionSeqAtSwitch: null,
      soakUntil: null,
      finishedAt: null,
      failureType: null,
      failureReason: null,
    };
    expect(view).toEqual([
      {
        ...untouched,
        state: 'soaking',
        soakUntil: soakUntil.toISOString(),
        measuredFps: 11.25,
        sessionSeqAtSwitch: 2 ** 40,
      },
      { ...untouched, state: 'soaking', soakUntil: soakUntil.toISOString(), measuredFps: null },
      {
        ...untouched,
        state: 'failed',
        failureType: 'install',
        failureReason: 'no camera',
        finishedAt: finishedAt.toISOString(),
      },
      { ...untouched, state: 'pending', attempts: 2, jobId: null, jobStatus: null, actionError: null },
      { ...untouched, state: 'healthy', finishedAt: finishedAt.toISOString() },
      { ...untouched, state: 'installing' },
    ]);
    const other = await database.connection.db
      .select({ state: rolloutTargets.state, measuredFps: rolloutTargets.measuredFps })
      .from(rolloutTargets)
      .where(eq(rolloutTargets.rolloutId, otherRolloutId));
    expect(other).toEqual(deviceIds.map(() => ({ state: 'installing', measuredFps: 3.5 })));
  });
});
