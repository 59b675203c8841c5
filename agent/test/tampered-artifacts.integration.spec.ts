import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { silentLogger } from '../src/logger';
import { ModelReconciler } from '../src/reconcile';
import { SlotStore, type InstalledModel } from '../src/slots';
import { ArtifactServerDouble } from './support/artifact-server-double';
import { JobServiceDouble } from './support/job-service-double';
import { desiredStateFor, signingKeys, testBundle, testModelLoader } from './support/signed-models';
import { until } from './support/wait';

jest.setTimeout(60_000);

const DEVICE_ID = 'tamper-device';
const SECRET = 'device-secret';
const FUZZ_SEED = 4010;

/**
 * Tampered model artifacts and manifests, one byte at a time (positions drawn by fast-check with a fixed seed):
 * the agent installs nothing whose bytes differ from the signed sha256 or whose signature does not verify
 * against the pinned key, reports the refusal on the job, and keeps no download behind. The artifact server is a
 * local HTTP double of `GET /artifacts/:sha256`; the job service an in-memory double.
 */
describe('the agent refuses tampered artifacts and signatures', () => {
  const keys = signingKeys();
  const otherKeys = signingKeys();
  let dataDir: string;
  let server: ArtifactServerDouble;
  let jobs: JobServiceDouble;
  let reconciler: ModelReconciler;
  let installed: InstalledModel | null;
  let desiredVersion = 0;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-tamper-'));
    server = await ArtifactServerDouble.start({ username: DEVICE_ID, password: SECRET });
    jobs = new JobServiceDouble(DEVICE_ID);
    installed = null;
    reconciler = new ModelReconciler({
      deviceId: DEVICE_ID,
      deviceSecret: SECRET,
      dataDir,
      slots: new SlotStore(path.join(dataDir, 'models')),
      channel: jobs,
      loader: testModelLoader,
      manifestPublicKey: keys.publicKeyPem,
      healthCheck: { frameWidth: 32, frameHeight: 32 },
      onModelChanged: (_detector, model) => {
        installed = model;
      },
      logger: silentLogger,
    });
    await reconciler.start();
  });

  afterAll(async () => {
    await reconciler.stop();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Sends `desired` with an apply job and answers the job's final status details. */
  async function apply(desired: ReturnType<typeof desiredStateFor>) {
    const jobId = `job-${desired.desiredVersion}`;
    jobs.sendDesired(desired);
    jobs.sendJob(jobId, 'apply-desired-state', { desiredVersion: desired.desiredVersion });
    await until(() => jobs.finalOf(jobId) !== undefined, `final status of ${jobId}`, 20_000);
    await reconciler.idle();
    return jobs.finalOf(jobId);
  }

  const bundle = testBundle(0, 4096);

  it('refuses an artifact with any one byte flipped, keeping nothing', async () => {
    const flips = fc.sample(fc.tuple(fc.nat({ max: bundle.length - 1 }), fc.integer({ min: 1, max: 255 })), {
      numRuns: 6,
      seed: FUZZ_SEED,
    });
    for (const [at, mask] of [
      [0, 1] as [number, number],
      [bundle.length - 1, 0x80] as [number, number],
      ...flips,
    ]) {
      const genuine = server.add(bundle);
      const tampered = Buffer.from(bundle);
      tampered[at] = (tampered[at] ?? 0) ^ mask;
      const served = server.add(tampered);
      desiredVersion += 1;
      const final = await apply(
        desiredStateFor({
          deviceId: DEVICE_ID,
          desiredVersion,
          modelId: 'model-a',
          // Signed for the genuine bytes; the URL serves the tampered ones (same size).
          artifact: { ...genuine, url: served.url },
          privateKeyPem: keys.privateKeyPem,
        }),
      );
      expect({ at, final }).toMatchObject({
        at,
        final: {
          status: 'FAILED',
          statusDetails: { step: 'VERIFYING', reason: expect.stringMatching(/sha256 mismatch/) },
        },
      });
      expect(installed).toBeNull();
      expect(fs.readdirSync(path.join(dataDir, 'downloads'))).toEqual([]);
    }
  });

  it('refuses a manifest whose signature has any one byte flipped or was made by another key, downloading nothing', async () => {
    const artifact = server.add(bundle);
    const signed = (privateKeyPem: string) =>
      desiredStateFor({
        deviceId: DEVICE_ID,
        desiredVersion: desiredVersion + 1,
        modelId: 'model-a',
        artifact,
        privateKeyPem,
      });
    const signatureBytes = Buffer.from(signed(keys.privateKeyPem).model?.signature ?? '', 'base64');
    const flips = fc.sample(
      fc.tuple(fc.nat({ max: signatureBytes.length - 1 }), fc.integer({ min: 1, max: 255 })),
      {
        numRuns: 6,
        seed: FUZZ_SEED + 1,
      },
    );
    const forgeries = [
      ...flips.map(([at, mask]) => ({
        what: `byte ${at} ^ ${mask}`,
        tamper: (signature: Buffer) => {
          const copy = Buffer.from(signature);
          copy[at] = (copy[at] ?? 0) ^ mask;
          return copy;
        },
        key: keys.privateKeyPem,
      })),
      { what: 'another key', tamper: (signature: Buffer) => signature, key: otherKeys.privateKeyPem },
    ];
    for (const forgery of forgeries) {
      desiredVersion += 1;
      const desired = signed(forgery.key);
      const model = desired.model;
      if (model === null) throw new Error('desiredStateFor gave no model');
      const forged = {
        ...desired,
        model: {
          ...model,
          signature: forgery.tamper(Buffer.from(model.signature, 'base64')).toString('base64'),
        },
      };
      const requestsBefore = server.requests.length;
      const final = await apply(forged);
      expect({ forgery: forgery.what, final }).toMatchObject({
        forgery: forgery.what,
        final: {
          status: 'FAILED',
          statusDetails: { step: 'VERIFYING', reason: expect.stringMatching(/signature/) },
        },
      });
      expect(server.requests.length).toBe(requestsBefore);
      expect(installed).toBeNull();
    }
  });
});
