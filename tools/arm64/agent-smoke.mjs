// The agent as a Jetson runs it (the arm64 Node 16 binary and the arm64 detector addon, under
// qemu-aarch64-static) against the real control plane on loopback (x86-64, this Node, embedded database and
// broker): enrol, connect, telemetry, a desired model installed (download, signature + sha256, A/B slot, native
// load, health check), detection on synthetic frames, events stored, a second model, a rollback job, a clean stop.
// Prints `ok <check>` / `FAIL <check>: <why>` per check and returns the counts. Emulated timings mean nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constantExpressionModel } from './constant-expression-model.mjs';
import { startLoopbackControlPlane } from './loopback-control-plane.mjs';
import { stageArm64Agent } from './stage-agent.mjs';

const QEMU = 'qemu-aarch64-static';
// What a TX1 (Cortex-A57) selects; qemu's /proc/cpuinfo is the host's, so OpenBLAS cannot detect it.
const EMULATED_ENV = { OPENBLAS_CORETYPE: 'CORTEXA57' };
const STEP_TIMEOUT_MS = 150_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `accept(value)`; throws with the last value after `timeoutMs`. */
async function eventually(what, read, accept, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 600)}`,
      );
    }
    await sleep(500);
  }
}

/** Runs the arm64 agent under qemu; resolves with its output when it exits. */
function runEmulatedAgent(node, entry, args, env) {
  const child = spawn(QEMU, [node, entry, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...EMULATED_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => (output = (output + chunk.toString()).slice(-30_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

export async function runAgentSmoke({ node16Arm64, arm64Addon, log = console.log }) {
  const work = mkdtempSync(join(tmpdir(), 'emofleet-agent-smoke-'));
  const dataDir = join(work, 'device');
  let controlPlane;
  let agent;
  let passed = 0;
  let failed = 0;
  let broken;
  const state = {};

  async function check(name, run) {
    if (broken !== undefined) {
      failed += 1;
      log(`FAIL ${name}: not run (${broken})`);
      return;
    }
    const started = Date.now();
    try {
      const detail = await run();
      passed += 1;
      log(`ok   ${name}${detail ? ` (${detail})` : ''} [${((Date.now() - started) / 1000).toFixed(1)} s]`);
    } catch (error) {
      failed += 1;
      broken = `"${name}" failed`;
      const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
      log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}${cause}`);
      if (agent) log(`--- agent output (tail) ---\n${agent.output().slice(-4000)}`);
    }
  }

  const device = () => controlPlane.api('GET', `/devices/${state.deviceId}`).then((r) => r.body);
  const job = (jobId) => controlPlane.api('GET', `/device-jobs/${jobId}`).then((r) => r.body);
  const finished = (view) => view && !['QUEUED', 'IN_PROGRESS'].includes(view.status);
  const events = (label) =>
    controlPlane
      .api('GET', `/events?device=${state.deviceId}&label=${label}`)
      .then((r) => (Array.isArray(r.body?.items) ? r.body.items : []));

  async function uploadReady(name, label) {
    const model = constantExpressionModel(label);
    const form = new FormData();
    form.append('cfg', new Blob([model.cfg]), 'model.cfg');
    form.append('weights', new Blob([model.weights]), 'model.weights');
    form.append('names', new Blob([model.names]), 'model.names');
    const created = await controlPlane.api('POST', `/models/${name}/versions`, { form });
    if (created.status !== 201)
      throw new Error(`upload ${name}: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    const version = await eventually(
      `${name} to be ready`,
      () => controlPlane.api('GET', `/models/${name}/versions/${created.body.version}`).then((r) => r.body),
      (view) => view?.status === 'ready' || view?.status === 'failed',
    );
    if (version.status !== 'ready') throw new Error(`${name}: ${version.statusReason}`);
    return created.body.id;
  }

  async function assign(modelVersionId) {
    const response = await controlPlane.api('PUT', `/devices/${state.deviceId}/desired-model`, {
      body: { modelVersionId },
    });
    if (response.status !== 200)
      throw new Error(`PUT desired-model: HTTP ${response.status} ${JSON.stringify(response.body)}`);
    return eventually(`job ${response.body.jobId} to finish`, () => job(response.body.jobId), finished);
  }

  try {
    await check('control plane (x86-64, embedded database and broker) on loopback', async () => {
      controlPlane = await startLoopbackControlPlane();
      return controlPlane.httpUrl;
    });
    await check('two constant-expression models uploaded, converted, benchmarked and ready', async () => {
      [state.surpriseVersion, state.sadnessVersion] = await Promise.all([
        uploadReady('smoke-surprise', 'Surprise'),
        uploadReady('smoke-sadness', 'Sadness'),
      ]);
    });
    const entry = stageArm64Agent(join(work, 'stage'), arm64Addon);
    await check('`emofleet-agent enroll` on Node 16 arm64 under qemu', async () => {
      const token = await controlPlane.api('POST', '/enrolment-tokens', { body: { name: 'arm64 smoke' } });
      if (token.status !== 201) throw new Error(`enrolment token: HTTP ${token.status}`);
      const enrol = runEmulatedAgent(
        node16Arm64,
        entry,
        ['enroll', '--server', controlPlane.httpUrl, '--token', token.body.token, '--name', 'arm64-smoke'],
        { EMOFLEET_DATA_DIR: dataDir },
      );
      const { code } = await enrol.exited;
      if (code !== 0) throw new Error(`exit ${code}: ${enrol.output()}`);
      state.deviceId = JSON.parse(readFileSync(join(dataDir, 'enrolment.json'), 'utf8')).deviceId;
      return state.deviceId;
    });
    await check('`emofleet-agent run` connects: device online, birth says arm64', async () => {
      agent = runEmulatedAgent(
        node16Arm64,
        entry,
        [
          'run',
          '--source',
          'synthetic:',
          '--frame-size',
          '64x48',
          '--fps',
          '4',
          '--telemetry-interval-ms',
          '1000',
        ],
        { EMOFLEET_DATA_DIR: dataDir, EMOFLEET_LOG_LEVEL: 'info' },
      );
      const view = await eventually('the device online', device, (d) => d?.online === true);
      if (view.capabilities?.arch !== 'arm64')
        throw new Error(`capabilities.arch is ${view.capabilities?.arch}`);
      return `detector backends ${JSON.stringify(view.capabilities.detectorBackends)}`;
    });
    await check('telemetry reaches the control plane', async () => {
      const view = await eventually('telemetry', device, (d) => d?.lastTelemetry != null);
      return `no model yet: ${view.lastTelemetry.framesDropped} frames read and dropped in the window`;
    });
    await check(
      'desired model smoke-surprise: apply job SUCCEEDED (download, verify, A/B install, arm64 addon load, health check)',
      async () => {
        const result = await assign(state.surpriseVersion);
        if (result.status !== 'SUCCEEDED')
          throw new Error(`job ${result.status}: ${JSON.stringify(result.statusDetails)}`);
        await eventually(
          'currentModel smoke-surprise',
          device,
          (d) => d?.currentModel?.modelId === 'smoke-surprise',
        );
        return `measured ${result.statusDetails?.measuredFps} FPS emulated`;
      },
    );
    await check('detection runs on frames with the installed model (telemetry)', async () => {
      const view = await eventually(
        'telemetry with frames processed by smoke-surprise',
        device,
        (d) => d?.lastTelemetry?.modelId === 'smoke-surprise' && d.lastTelemetry.framesProcessed > 0,
      );
      return `${view.lastTelemetry.fps} FPS, p50 ${view.lastTelemetry.latencyMs?.p50} ms emulated`;
    });
    await check(
      'desired model smoke-sadness: SUCCEEDED; the Surprise expression became a stored event',
      async () => {
        const result = await assign(state.sadnessVersion);
        if (result.status !== 'SUCCEEDED')
          throw new Error(`job ${result.status}: ${JSON.stringify(result.statusDetails)}`);
        const stored = await eventually(
          'a Surprise event',
          () => events('Surprise'),
          (items) => items.length > 0,
        );
        return `${stored.length} event(s), model ${stored[0].modelId}, score ${stored[0].score.toFixed(2)}`;
      },
    );
    await check('smoke-sadness detects long enough to make a Sadness episode', async () => {
      // The agent reports an expression held at least 500 ms (its default): a rollback issued before the
      // emulated detector has seen that much of Sadness would leave nothing to report. Telemetry windows are
      // told apart by lastTelemetryAt; a window missed between polls only makes the wait longer.
      const frames = new Map();
      const total = () => [...frames.values()].reduce((sum, count) => sum + count, 0);
      await eventually(
        '4 frames processed by smoke-sadness (1 s at 4 FPS)',
        async () => {
          const view = await device();
          if (view?.lastTelemetry?.modelId === 'smoke-sadness')
            frames.set(view.lastTelemetryAt, view.lastTelemetry.framesProcessed);
          return total();
        },
        (count) => count >= 4,
      );
      return `${total()} frames in ${frames.size} telemetry window(s)`;
    });
    await check(
      'rollback job: SUCCEEDED with step ROLLED_BACK, device back on smoke-surprise, Sadness event stored',
      async () => {
        const queued = await controlPlane.api('POST', `/devices/${state.deviceId}/jobs`, {
          body: { operation: 'rollback', parameters: { reason: 'arm64 smoke test' } },
        });
        if (queued.status !== 201)
          throw new Error(`POST jobs: HTTP ${queued.status} ${JSON.stringify(queued.body)}`);
        const result = await eventually('the rollback job to finish', () => job(queued.body.jobId), finished);
        if (result.status !== 'SUCCEEDED' || result.statusDetails?.step !== 'ROLLED_BACK') {
          throw new Error(`rollback ${result.status}: ${JSON.stringify(result.statusDetails)}`);
        }
        await eventually(
          'currentModel smoke-surprise',
          device,
          (d) => d?.currentModel?.modelId === 'smoke-surprise',
        );
        await eventually(
          'a Sadness event',
          () => events('Sadness'),
          (items) => items.length > 0,
        );
      },
    );
    await check('SIGTERM: the agent stops cleanly and the device goes offline', async () => {
      agent.child.kill('SIGTERM');
      const { code, signal } = await agent.exited;
      if (code !== 0) throw new Error(`exit ${code ?? signal}`);
      await eventually('the device offline', device, (d) => d?.online === false, 30_000);
    });
  } finally {
    if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    if (failed > 0 && controlPlane)
      log(`--- control plane output (tail) ---\n${controlPlane.output().slice(-4000)}`);
    await controlPlane?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return { passed, failed };
}
