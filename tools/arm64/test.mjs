// npm run test:arm64: cross-builds the detector for linux-arm64, computes reference outputs with the x86-64
// addon, and checks the arm64 addon against them on the arm64 Node 16 binary under qemu-aarch64-static; then
// runs the agent smoke test (agent-smoke.mjs): the arm64 agent under qemu against the control plane on loopback.
// Needs (Debian, with `dpkg --add-architecture arm64`): g++-aarch64-linux-gnu, libopenblas-dev:arm64,
// libstdc++6:arm64, qemu-user-static. Emulated timings say nothing about a Jetson; they are printed only as a
// sanity figure. Closes with one `N passed, N failed` line over both parts (tools/run-tests.mjs reads the last).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runAgentSmoke } from './agent-smoke.mjs';
import { buildDetectorArm64 } from './build-detector.mjs';
import { node16Arm64Dir } from './node16-arm64.mjs';

const root = resolve(import.meta.dirname, '..', '..');
const EMULATED_RUN_TIMEOUT_MS = 8 * 60 * 1000;
// The emulated process uses the multiarch arm64 runtime (libc6:arm64, libstdc++6:arm64, libopenblas0:arm64
// under /lib and /usr/lib/aarch64-linux-gnu), not `-L /usr/aarch64-linux-gnu`: the cross toolchain's sysroot
// has its own ld.so, a different glibc build from the multiarch libc.so.6 that the search path reaches, and
// that mix corrupts the loader's state (pthread_create loops forever).

function seconds(since) {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  return result;
}

/** The counts of the last `N passed, N failed` line of `output` (none: one failure). */
function countsOf(output, status) {
  const match = [...output.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
  const passed = match ? Number(match[1]) : 0;
  const failed = match ? Number(match[2]) : 1;
  return { passed, failed: status === 0 ? failed : Math.max(failed, 1) };
}

const started = performance.now();
// The x64 addon and the libraries' dist/ (the references are computed with them), the agent and the control
// plane (the smoke test runs their dist/).
run('npx', [
  'nx',
  'run-many',
  '-t',
  'build',
  '-p',
  'protocol',
  'darknet',
  'detector',
  'agent',
  'control-plane',
]);
let phase = performance.now();
const addon = buildDetectorArm64();
console.log(`arm64 addon: ${addon} (${seconds(phase)})`);

const totals = { passed: 0, failed: 0 };
const node = join(node16Arm64Dir(), 'bin', 'node');
const referenceDir = mkdtempSync(join(tmpdir(), 'emofleet-arm64-'));
try {
  phase = performance.now();
  const { writeReferences } = await import('./write-references.mjs');
  await writeReferences(referenceDir);
  console.log(`x86-64 references written to ${referenceDir} (${seconds(phase)})`);

  phase = performance.now();
  const checked = spawnSync(
    'qemu-aarch64-static',
    [node, join(import.meta.dirname, 'check-references.cjs'), addon, referenceDir],
    {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: EMULATED_RUN_TIMEOUT_MS,
      // What a TX1 (Cortex-A57) selects; qemu's /proc/cpuinfo is the host's, so OpenBLAS cannot detect it.
      env: { ...process.env, OPENBLAS_CORETYPE: 'CORTEXA57' },
    },
  );
  process.stdout.write(checked.stdout ?? '');
  if (checked.error) console.log(`FAIL detector checks: ${checked.error.message}`);
  const detector = countsOf(checked.stdout ?? '', checked.status ?? 1);
  totals.passed += detector.passed;
  totals.failed += detector.failed;
  console.log(`emulated arm64 detector checks: ${seconds(phase)} (sanity figure only)`);
} finally {
  rmSync(referenceDir, { recursive: true, force: true });
}

phase = performance.now();
console.log('# agent smoke test: arm64 agent under qemu against the control plane on loopback');
const smoke = await runAgentSmoke({ node16Arm64: node, arm64Addon: addon }).catch((error) => {
  console.log(
    `FAIL agent smoke test: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return { passed: 0, failed: 1 };
});
totals.passed += smoke.passed;
totals.failed += smoke.failed;
console.log(`agent smoke test: ${seconds(phase)}; total ${seconds(started)}`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exitCode = totals.failed === 0 && totals.passed > 0 ? 0 : 1;
