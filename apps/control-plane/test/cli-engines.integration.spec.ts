/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { type BuilderAgent, startBuilderAgent } from './support/builder-agent';
import { type CliRun, spawnCli } from './support/cli-runner';
import { removeScheduledQueues } from './support/queue-cleanup';
import { uploadReadyVersion } from './support/small-model';
import { createTestDatabase, testAdminToken, testConfig, uniqueSuffix } from './support/test-environment';

/** The CLI as `npx emofleet` runs it (built by `cli:build`, which the control plane's tests depend on). */

interface EngineBuildJson {
  cacheKey: string;
  status: string;
  cached?: boolean;
  builderDeviceId: string | null;
  engine: { sha256: string; tensorrtVersion: string | null } | null;
  buildLog: string | null;
}

/**
 * `engines …` of the built CLI against a control plane on real PostgreSQL, Redis and Mosquitto, with a ready
 * version of a small model from the pipeline and a real agent (agent/dist) as the builder, running the trtexec
 * TEST DOUBLE (no device here has TensorRT).
 */
describe('emofleet engines against a control plane (test double of trtexec)', () => {
  let controlPlane: RunningControlPlane;
  let queuePrefix: string;
  let workDir: string;
  let builder: BuilderAgent | undefined;
  const model = `cli-engines-${uniqueSuffix()}`;
  const cleanups: Array<() => Promise<void> | void> = [];

  function emofleet(...args: string[]): Promise<CliRun> {
    return spawnCli({ server: controlPlane.httpUrl, token: testAdminToken, configHome: workDir }, ...args);
  }

  async function succeeds(...args: string[]): Promise<CliRun> {
    const run = await emofleet(...args);
    expect({ args, code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      args,
      code: 0,
      stderr: '',
    });
    return run;
  }

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const setup = testConfig('external-services', {
      DATABASE_URL: database.url,
      ENGINE_BUILD_TIMEOUT_MS: '60000',
      ENGINE_BUILD_ATTEMPTS: '2',
      ENGINE_BUILD_BACKOFF_MS: '300',
      ENGINE_BUILD_POLL_MS: '250',
    });
    cleanups.push(setup.cleanup);
    queuePrefix = setup.config.queuePrefix;
    controlPlane = await startControlPlane(setup.config, () => undefined);
    workDir = mkdtempSync(join(tmpdir(), 'emofleet-cli-engines-'));
    cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
    await uploadReadyVersion(controlPlane.httpUrl, model, 1);
    builder = await startBuilderAgent(
      controlPlane.httpUrl,
      'cli-nano-builder',
      'gpuArch=sm_53,tensorrt=8.2.1,jetpack=4.6.1',
    );
  }, 300_000);

  afterAll(async () => {
    builder?.stop();
    if (controlPlane) {
      await removeScheduledQueues(controlPlane, queuePrefix);
      await controlPlane.close();
    }
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('builds with --watch, answers the same class from the cache, lists and shows the engine', async () => {
    const built = await succeeds(
      'engines',
      'build',
      `${model}@1`,
      '--device-class',
      'gpuArch=sm_53,jetpack=4.6.1',
      '--watch',
      '--interval',
      '200',
    );
    const key = /engine build ([0-9a-f]{64}) queued/.exec(built.stdout)?.[1];
    expect(key).toBeDefined();
    expect(built.stdout).toContain(`engine build ${key ?? '?'}: succeeded`);
    expect(built.stdout).toContain('class      sm_53 / TensorRT 8.2 / JetPack 4.6.1 / fp16');
    expect(built.stdout).toContain(`builder    ${builder?.deviceId ?? '?'}`);
    expect(built.stdout).toMatch(/engine {5}[0-9a-f]{64} \(.+, TensorRT 8\.2\.1, built in \d+ ms\)/);
    expect(built.stdout).toContain('timing     61.4986 qps, latency 16.2212 ms');
    // The job's progress and the builder's steps went to stderr.
    expect(built.stderr).toContain(`builder ${builder?.deviceId ?? '?'}: IN_PROGRESS BUILDING`);

    const again = await succeeds(
      'engines',
      'build',
      `${model}@1`,
      '--device-class',
      'gpuArch=sm_53,tensorrt=8.2',
      '--json',
    );
    const cached = JSON.parse(again.stdout) as EngineBuildJson;
    expect(cached).toMatchObject({ cacheKey: key, cached: true, status: 'succeeded' });

    const listed = JSON.parse((await succeeds('engines', 'list', `${model}@1`, '--json')).stdout) as {
      items: EngineBuildJson[];
    };
    expect(listed.items.map((item) => [item.cacheKey, item.status, item.builderDeviceId])).toEqual([
      [key, 'succeeded', builder?.deviceId],
    ]);
    const table = (await succeeds('engines', 'list', `${model}@1`)).stdout.split('\n');
    expect(table[0]).toMatch(/^CACHE KEY +CLASS +PRECISION +STATUS +BUILDER +ENGINE +TIMING$/);
    expect(table[1]).toContain(`${key ?? '?'}  sm_53 / TensorRT 8.2 / JetPack 4.6.1  fp16`);
    expect(table[1]).toContain(cached.engine?.sha256.slice(0, 12));

    const shown = await succeeds('engines', 'show', key ?? '?');
    expect(shown.stdout).toContain('command    trtexec --onnx=model.onnx');
    expect(shown.stdout).toContain('builder log (tail):');
    expect(shown.stdout).toContain('THIS IS A TEST DOUBLE of trtexec');
  }, 180_000);

  it('fails with the reason the control plane or the command line gives', async () => {
    const noVersion = await emofleet(
      'engines',
      'build',
      `${model}@9`,
      '--device-class',
      'gpuArch=sm_53,jetpack=4.6.1',
    );
    expect(noVersion.code).toBe(1);
    expect(noVersion.stderr).toContain(`finding model version ${model}@9 failed:`);

    const badClass = await emofleet('engines', 'build', `${model}@1`, '--device-class', 'gpuArch=sm_53');
    expect(badClass.code).toBe(2);
    expect(badClass.stderr).toContain('--device-class "gpuArch=sm_53": give tensorrt, jetpack or both');
    const unknownKey = await emofleet('engines', 'build', `${model}@1`, '--device-class', 'arch=sm_53');
    expect(unknownKey.code).toBe(2);
    expect(unknownKey.stderr).toContain('"arch=sm_53" is not one of gpuArch=<value>, tensorrt=<value>');
    const badReference = await emofleet('engines', 'list', model);
    expect(badReference.code).toBe(2);
    expect(badReference.stderr).toContain(`<model>@<version> "${model}": expected <name>@<version>`);

    // sm_53 has no INT8 in TensorRT: the toolchain refuses the target.
    const refused = await emofleet(
      'engines',
      'build',
      `${model}@1`,
      '--device-class',
      'gpuArch=sm_53,jetpack=4.6.1',
      '--precision',
      'int8',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`requesting the engine of ${model}@1 failed: .*int8`));

    const failing = await emofleet(
      'engines',
      'build',
      `${model}@1`,
      '--device-class',
      'gpuArch=sm_72,jetpack=5.1',
      '--watch',
      '--interval',
      '200',
    );
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain(
      'failed: no online engine builder of class sm_72 / TensorRT 8.5 / JetPack 5.1 / fp16',
    );
  }, 120_000);
});
