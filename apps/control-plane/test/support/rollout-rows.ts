import { type Database } from '../../src/database/database-connection';
import { models, modelVersions, rollouts } from '../../src/database/schema';

/** The model the rows below roll out, as a rollout and its targets name it. */
export const TEST_ROLLOUT_MODEL = { modelId: 'fer', version: '1', modelVersionId: 'fer-v1' };

/**
 * The rows a repository test of rollout targets starts from, written directly (no API, no engine): the model
 * `fer` with its version 1.
 */
export async function insertTestModelVersion(db: Database): Promise<void> {
  await db.insert(models).values({ name: TEST_ROLLOUT_MODEL.modelId });
  await db.insert(modelVersions).values({
    id: TEST_ROLLOUT_MODEL.modelVersionId,
    modelName: TEST_ROLLOUT_MODEL.modelId,
    version: 1,
    uploadedBy: 'test',
    analysis: {},
    classes: 4,
    inputShape: [3, 96, 96],
  });
}

/** A running rollout of `TEST_ROLLOUT_MODEL` with no phases or targets (add the targets the test needs). */
export async function insertRunningRollout(db: Database, id: string, name: string): Promise<void> {
  await db.insert(rollouts).values({
    id,
    name,
    state: 'running',
    model: TEST_ROLLOUT_MODEL,
    modelVersionId: TEST_ROLLOUT_MODEL.modelVersionId,
    variants: [],
    selector: '',
    gates: { fps: null, accuracy: null, warmupFrames: 0, measureFrames: 10, crashLoopRestarts: 3 },
    abortCriteria: [],
    maxConcurrentInstalls: 1,
    installTimeoutSeconds: 600,
    acceptsNewDevices: false,
    canaryDevices: [],
    orderSeed: 'seed',
    createdBy: 'test',
  });
}
