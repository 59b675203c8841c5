/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrolDevice, type RunningSimulation, silentLogger, startSimulation } from '@emofleet/agent';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { apiRequest } from './support/api-request';
import { eventually } from './support/eventually';
import { type CliRun, spawnCli } from './support/cli-runner';
import { removeScheduledQueues } from './support/queue-cleanup';
import { uploadReadyVersion } from './support/small-model';
import { createTestDatabase, testAdminToken, testConfig, uniqueSuffix } from './support/test-environment';

/** The CLI as `npx emofleet` runs it (built by `cli:build`, which the control plane's tests depend on). */

interface RolloutJson {
  id: string;
  state: string;
  stateReason: string | null;
  phaseDetails: Array<{ phase: number; state: string }>;
  targets: Array<{ deviceId: string; state: string; phase: number | null }>;
}

/**
 * `rollouts …` of the built CLI against a control plane on real PostgreSQL, Redis and Mosquitto, with two
 * simulated agents (real connection, reconcile and protocol code; synthetic detector) and two ready versions
 * of a small model from the pipeline.
 */
describe('emofleet rollouts against a control plane', () => {
  let controlPlane: RunningControlPlane;
  let queuePrefix: string;
  let workDir: string;
  let simulation: RunningSimulation | undefined;
  const model = `cli-fer-${uniqueSuffix()}`;
  const site = `cli-lab-${uniqueSuffix()}`;
  const deviceIds: string[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  /** Runs `emofleet <args>` in a child process (async: the control plane runs in this process). */
  function emofleet(...args: string[]): Promise<CliRun> {
    return spawnCli({ server: controlPlane.httpUrl, token: testAdminToken, configHome: workDir }, ...args);
  }

  async function succeeds(...args: string[]): Promise<string> {
    const run = await emofleet(...args);
    expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
    return run.stdout;
  }

  const rolloutJson = async (id: string): Promise<RolloutJson> =>
    JSON.parse(await succeeds('rollouts', 'show', id, '--json')) as RolloutJson;
  const rolloutBecomes = (id: string, accept: (rollout: RolloutJson) => boolean, what: string) =>
    eventually(() => rolloutJson(id), accept, { timeoutMs: 90_000, intervalMs: 500, what });
  const createdId = (stdout: string): string => {
    const id = /^rollout (\S+) /.exec(stdout)?.[1];
    if (id === undefined) throw new Error(`no rollout id in ${JSON.stringify(stdout)}`);
    return id;
  };

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const setup = testConfig('external-services', { DATABASE_URL: database.url });
    cleanups.push(setup.cleanup);
    queuePrefix = setup.config.queuePrefix;
    controlPlane = await startControlPlane(setup.config, () => undefined);
    workDir = mkdtempSync(join(tmpdir(), 'emofleet-cli-rollouts-'));
    cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));

    await uploadReadyVersion(controlPlane.httpUrl, model, 1);
    await uploadReadyVersion(controlPlane.httpUrl, model, 2);
    const token = await apiRequest<{ token: string }>(controlPlane.httpUrl, 'POST', '/enrolment-tokens', {
      body: { name: 'cli rollouts', maxUses: 2, tags: { site } },
    });
    expect(token.status).toBe(201);
    const records = [];
    for (const name of ['cli-sim-1', 'cli-sim-2'])
      records.push(await enrolDevice({ server: controlPlane.httpUrl, token: token.body.token, name }));
    deviceIds.push(...records.map((record) => record.deviceId));
    const first = records[0];
    if (first === undefined) throw new Error('no device enrolled');
    simulation = await startSimulation({
      count: records.length,
      idPrefix: 'unused',
      secret: 'unused',
      devices: records.map((record) => ({ deviceId: record.deviceId, secret: record.secret })),
      mqttUrl: first.mqttUrl,
      topicPrefix: first.topicPrefix,
      mqttVersion: 5,
      dataDir: join(workDir, 'agents'),
      manifestPublicKey: first.signingPublicKey,
      fps: 2,
      telemetryIntervalMs: 1000,
      agentVersion: '0.0.0-test',
      logger: silentLogger,
    });
    await eventually(
      () =>
        apiRequest<{ items: unknown[] }>(
          controlPlane.httpUrl,
          'GET',
          `/devices?tags=site=${site}&online=true&limit=10`,
        ),
      (answer) => answer.body.items.length === 2,
      { timeoutMs: 20_000, what: 'both simulated devices online' },
    );
  }, 300_000);

  afterAll(async () => {
    await simulation?.stop();
    if (controlPlane) {
      await removeScheduledQueues(controlPlane, queuePrefix);
      await controlPlane.close();
    }
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('previews the target order and the devices per phase as a table; creates nothing', async () => {
    const args = ['--model', `${model}@1`, '--selector', `site=${site}`, '--phases', '1,100%'];
    const plan = JSON.parse(await succeeds('rollouts', 'preview', ...args, '--json')) as {
      devices: Array<{ deviceId: string; position: number }>;
      phases: Array<{ deviceIds: string[] }>;
    };
    const order = [...plan.devices].sort((a, b) => a.position - b.position).map((d) => d.deviceId);
    expect([...order].sort()).toEqual([...deviceIds].sort());
    expect(plan.phases.map((phase) => phase.deviceIds)).toEqual([[order[0]], [order[1]]]);

    const table = await succeeds('rollouts', 'preview', ...args);
    const lines = table.split('\n');
    expect(lines[0]).toBe('2 target(s), 2 online');
    expect(lines[2]).toMatch(/^# +DEVICE +PHASE +ONLINE +CURRENT +NEW$/);
    expect(lines[3]).toMatch(new RegExp(`^1 +${order[0] ?? '?'} +1 +yes +- +${model}@1$`));
    expect(lines[4]).toMatch(new RegExp(`^2 +${order[1] ?? '?'} +2 +yes +- +${model}@1$`));
    expect(table).toMatch(/^1 +canary +1 +1$/m);
    expect(table).toMatch(/^2 +phase 2 +1 +2$/m);
    expect(await succeeds('rollouts', 'list')).toBe('');
  });

  it('names what is wrong in bad input, with exit code 2 for malformed flags and 1 for refused requests', async () => {
    const selector = ['--selector', `site=${site}`];
    expect(
      await emofleet(
        'rollouts',
        'create',
        '--model',
        `no-such-${model}@1`,
        ...selector,
        '--phases',
        '1,100%',
      ),
    ).toEqual({
      code: 1,
      stdout: '',
      stderr: `emofleet: creating the rollout failed: model: model "no-such-${model}" has no version 1\n`,
    });
    expect(
      await emofleet('rollouts', 'create', '--model', `${model}@1`, ...selector, '--phases', '1,ten%'),
    ).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'emofleet: --phases "1,ten%", entry 2 "ten%": expected a device count (e.g. 1) or a percentage (e.g. 10%)\n',
    });
    const notToAll = await emofleet(
      'rollouts',
      'preview',
      '--model',
      `${model}@1`,
      ...selector,
      '--phases',
      '1,50%',
    );
    expect(notToAll.code).toBe(1);
    expect(notToAll.stderr).toMatch(
      /^emofleet: previewing the rollout failed: .*phases\.1: the last phase must be percent: 100 \(every target\)\n$/,
    );
    const noModel = await emofleet('rollouts', 'create', '--model', model, ...selector);
    expect(noModel).toMatchObject({
      code: 2,
      stderr: `emofleet: --model "${model}": expected <name>@<version>, e.g. fer@2\n`,
    });
    const file = join(workDir, 'broken.yaml');
    writeFileSync(file, 'name: [unclosed\n');
    const broken = await emofleet('rollouts', 'create', '-f', file);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(new RegExp(`^emofleet: --file ${file}: not valid JSON or YAML: .*line 2`));
    expect(await emofleet('rollouts', 'show', 'rol_missing')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'emofleet: reading rollout rol_missing failed: no rollout with id "rol_missing"\n',
    });
    expect(await succeeds('rollouts', 'list')).toBe('');
  });

  it('creates a rollout from flags, pauses and resumes it, then aborts it with a reason (watch exits 3)', async () => {
    const created = await succeeds(
      'rollouts',
      'create',
      '--model',
      `${model}@1`,
      '--selector',
      `site=${site}`,
      '--phases',
      '1,100%',
      '--approval',
      'manual',
      '--min-fps',
      '1',
      '--max-concurrent',
      '1',
    );
    const id = createdId(created);
    expect(created).toMatch(/running: 2 device\(s\) in 2 phase\(s\)/);

    expect(await succeeds('rollouts', 'pause', id, '--reason', 'lunch')).toMatch(
      new RegExp(`^rollout ${id} paused \\(.*lunch\\)`),
    );
    expect(await succeeds('rollouts', 'show', id)).toMatch(
      new RegExp(`^rollout ${id} "${model}@1 to site=${site}": paused`),
    );
    expect(await succeeds('rollouts', 'resume', id)).toMatch(
      new RegExp(`^rollout ${id} (running|awaiting-approval)`),
    );
    const waiting = await rolloutBecomes(
      id,
      (r) => r.state === 'awaiting-approval',
      'phase 2 awaiting approval',
    );
    expect(waiting.phaseDetails.map((phase) => phase.state)).toEqual(['succeeded', 'awaiting-approval']);

    const shown = await succeeds('rollouts', 'show', id);
    expect(shown).toMatch(/^PHASE +NAME +UP TO +SOAK +APPROVAL +STATE +DEVICES$/m);
    expect(shown).toMatch(/^1 +.+ +1 +- +automatic +succeeded +1 healthy$/m);
    expect(shown).toMatch(/^2 +.+ +100% +- +manual +awaiting-approval +no devices$/m);
    expect(shown).toMatch(/^- +not started +1 pending$/m);
    expect(await succeeds('rollouts', 'list', '--state', 'awaiting-approval')).toMatch(
      new RegExp(`^${id} +awaiting-approval +2/2 +${model}@1 +1 pending, 1 healthy +`, 'm'),
    );

    const aborted = await succeeds('rollouts', 'abort', id, '--reason', 'wrong build');
    expect(aborted).toMatch(new RegExp(`^rollout ${id} aborted \\(.*wrong build\\)`));
    const watched = await emofleet('rollouts', 'watch', id);
    expect(watched.code).toBe(3);
    expect(watched.stderr).toMatch(new RegExp(`emofleet: rollout ${id} aborted: .*wrong build\\n$`));
    const done = await rolloutBecomes(
      id,
      (r) => r.targets.every((t) => t.state === 'rolled-back' || t.state === 'skipped'),
      'the started device rolled back',
    );
    expect(done.targets.map((t) => t.state).sort()).toEqual(['rolled-back', 'skipped']);
  }, 180_000);

  it('follows a rollout from a YAML file live through an approval to completed (watch exits 0)', async () => {
    const file = join(workDir, 'rollout.yaml');
    writeFileSync(
      file,
      [
        `name: v2 to ${site}`,
        `model: { name: ${model}, version: 2 }`,
        `selector: site=${site}`,
        'phases:',
        '  - count: 1',
        '  - percent: 100',
        '    approval: manual',
        'gates: { warmupFrames: 1, measureFrames: 5 }',
        '',
      ].join('\n'),
    );
    const id = createdId(await succeeds('rollouts', 'create', '-f', file));
    const watch = emofleet('rollouts', 'watch', id);
    await rolloutBecomes(id, (r) => r.state === 'awaiting-approval', 'phase 2 awaiting approval');
    expect(await succeeds('rollouts', 'approve', id)).toMatch(new RegExp(`^rollout ${id} running`));

    const watched = await watch;
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/ phase 2 awaiting-approval → running \(approved by token:/);
    expect(watched.stdout).toMatch(
      new RegExp(` device (${deviceIds.join('|')}) \\(phase 1\\) pending → installing`),
    );
    expect(watched.stdout).toMatch(/ rollout running → completed/);
    expect(watched.stdout).toMatch(new RegExp(`^rollout ${id} "v2 to ${site}": completed`, 'm'));
    expect(watched.stdout).toMatch(/^devices: 2 healthy$/m);
    expect(await succeeds('rollouts', 'list')).toMatch(
      new RegExp(`^${id} +completed +2/2 +${model}@2 +2 healthy +v2 to`, 'm'),
    );
  }, 180_000);

  it('shows a failed health gate with its reason; the rollout aborts and watch exits 3', async () => {
    const id = createdId(
      await succeeds(
        'rollouts',
        'create',
        '--model',
        `${model}@1`,
        '--selector',
        `site=${site}`,
        '--phases',
        '1,100%',
        '--accuracy-baseline',
        '0.9',
        '--accuracy-tolerance',
        '0.01',
      ),
    );
    const watched = await emofleet('rollouts', 'watch', id);
    expect(watched.code).toBe(3);
    expect(watched.stderr).toMatch(
      new RegExp(`^emofleet: rollout ${id} aborted: phase 1 .*devices failed`, 'm'),
    );
    await rolloutBecomes(
      id,
      (r) => r.targets.some((t) => t.state === 'rolled-back'),
      'the canary rolled back',
    );
    const shown = await succeeds('rollouts', 'show', id);
    expect(shown).toMatch(/^failures:$/m);
    expect(shown).toMatch(
      new RegExp(
        `^(${deviceIds.join('|')}) +1 +health-gate +rolled-back +.*requires accuracy >= 0\\.89 but the bundle has no eval set`,
        'm',
      ),
    );
  }, 180_000);
});
