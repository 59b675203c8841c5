// `npm test`: finds or starts the services the tests need, runs every project's test target through Nx and
// closes with one line `N passed, N failed` summing all suites. Extra arguments go to `nx run-many`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { node16Binary } from './node16.mjs';
import { resolveTestServices } from './test-services.mjs';

const root = resolve(import.meta.dirname, '..');
const NODE16_PROJECTS = ['libs/protocol', 'agent'];
const NATIVE_SUITES = [
  ['release', []],
  ['sanitized', ['SANITIZE=1']],
];

/** Records a non-jest suite that prints `N passed, N failed` in the jest report format. */
function recordPlainSuite(name, output, status) {
  const match = [...output.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
  const passedCount = match ? Number(match[1]) : 0;
  const failedCount = match ? Number(match[2]) : 1;
  const report = {
    numPassedTests: passedCount,
    numFailedTests: status === 0 ? failedCount : Math.max(failedCount, 1),
    numRuntimeErrorTestSuites: 0,
  };
  mkdirSync(reports, { recursive: true });
  writeFileSync(join(reports, `${name}.json`), JSON.stringify(report));
}
const reports = join(root, 'reports', 'jest');
rmSync(reports, { recursive: true, force: true });

const services = await resolveTestServices();
let nxStatus = 1;
try {
  const result = spawnSync(
    'npx',
    ['nx', 'run-many', '-t', 'test', '--output-style=stream', '--skip-nx-cache', ...process.argv.slice(2)],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...services.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    },
  );
  nxStatus = result.status ?? 1;
  // The agent runs on Node 16 on a Jetson (JetPack 4.6): its tests, and those of the protocol it uses, run
  // there too.
  const node16 = node16Binary();
  for (const project of NODE16_PROJECTS) {
    process.stdout.write(`\n> ${project} tests on Node 16\n`);
    const run = spawnSync(process.execPath, ['tools/jest-project.mjs', project], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...services.env, EMOFLEET_TEST_NODE: node16, EMOFLEET_TEST_LABEL: 'node16' },
    });
    if (run.status !== 0) nxStatus = nxStatus || 1;
  }
  // The detector's C++ tests, plain and under AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer.
  for (const [label, args] of NATIVE_SUITES) {
    process.stdout.write(`\n> detector native tests (${label})\n`);
    const run = spawnSync('nice', ['make', '-C', 'libs/detector/native', '-j2', ...args, 'test'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    process.stdout.write(run.stdout ?? '');
    recordPlainSuite(`detector-native.${label}`, run.stdout ?? '', run.status ?? 1);
  }
  // The aarch64 build of the detector, checked under qemu on the Jetson's Node 16 (needs the cross toolchain
  // that .ci/run installs; opt in with EMOFLEET_TEST_ARM64=1, or run `npm run test:arm64` alone).
  if (process.env.EMOFLEET_TEST_ARM64 === '1') {
    process.stdout.write('\n> detector on arm64 under emulation\n');
    const run = spawnSync(process.execPath, ['tools/arm64/test.mjs'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    process.stdout.write(run.stdout ?? '');
    recordPlainSuite('detector-arm64', run.stdout ?? '', run.status ?? 1);
  }
  // The fault-injection suite (docs/faults.md) with its short durations: private services it kills and
  // restarts, real control-plane and agent processes; `EMOFLEET_TEST_FAULTS=0` leaves it out.
  if (process.env.EMOFLEET_TEST_FAULTS !== '0') {
    process.stdout.write('\n> fault-injection suite (npm run test:faults -- --ci)\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'tools/faults/run.ts', '--ci'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    process.stdout.write(run.stdout ?? '');
    recordPlainSuite('faults', run.stdout ?? '', run.status ?? 1);
  }
} finally {
  await services.stop();
}

/** `FAILED <report> <test file> › <test name>` for each failed jest test, and each suite that failed to run. */
function failedTestNames(reportFile, report) {
  const names = [];
  if (!report.testResults && report.numFailedTests > 0)
    names.push(`FAILED ${reportFile}: ${report.numFailedTests} failed (its output is above)`);
  for (const suite of report.testResults ?? []) {
    const file = suite.name ? suite.name.slice(root.length + 1) : '?';
    const failedAssertions = (suite.assertionResults ?? []).filter((test) => test.status === 'failed');
    for (const test of failedAssertions) names.push(`FAILED ${reportFile} ${file} › ${test.fullName}`);
    if (suite.status === 'failed' && failedAssertions.length === 0) {
      const reason = (suite.message ?? '').split('\n').find((line) => line.trim() !== '') ?? '';
      names.push(`FAILED ${reportFile} ${file} (suite): ${reason.trim().slice(0, 300)}`);
    }
  }
  return names;
}

/**
 * The jest reports a full run writes: one per project with a test target, and the Node 16 runs. Empty when extra
 * arguments (e.g. `--projects`) narrowed the run.
 */
function expectedJestReports() {
  if (process.argv.length > 2) return [];
  const listed = spawnSync('npx', ['nx', 'show', 'projects', '--with-target', 'test'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  const projects = listed.status === 0 ? listed.stdout.split('\n').filter((name) => name.trim() !== '') : [];
  const node16 = NODE16_PROJECTS.map((dir) => `${dir.split('/').pop()}.node16`);
  return [...projects, ...node16].map((name) => `${name.trim()}.json`);
}

let passed = 0;
let failed = 0;
const broken = [];
const failures = [];
if (existsSync(reports)) {
  for (const file of readdirSync(reports).filter((name) => name.endsWith('.json'))) {
    const report = JSON.parse(readFileSync(join(reports, file), 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    if (report.numRuntimeErrorTestSuites > 0)
      broken.push(`${file}: ${report.numRuntimeErrorTestSuites} suite(s) did not run`);
    failures.push(...failedTestNames(file, report));
  }
}
// A jest run that crashed (e.g. an uncaught error after its tests) writes no report: name it rather than sum less.
for (const report of expectedJestReports()) {
  if (!existsSync(join(reports, report)))
    broken.push(`FAILED ${report}: no report was written (the run crashed; its output is above)`);
}
// The names go last, next to the count, so that the tail of a long CI log says what broke.
for (const line of [...failures, ...broken]) process.stdout.write(`${line}\n`);
// A suite that crashed before running its tests counts as one failure, so it cannot hide.
failed += broken.length;
if (nxStatus !== 0 && failed === 0) failed = 1;
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 || nxStatus !== 0 ? 1 : 0);
