// Runs one project's jest suite and records its results in reports/jest/<project>[.<label>].json, which
// tools/run-tests.mjs sums into the closing `N passed, N failed` line.
//   node tools/jest-project.mjs <project dir> [jest args...]
// EMOFLEET_TEST_NODE=<node binary> runs jest on another Node.js (the agent's Node 16 run), with
// EMOFLEET_TEST_LABEL naming its report.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const projectDir = process.argv[2];
if (!projectDir) {
  process.stderr.write('usage: node tools/jest-project.mjs <project dir> [jest args...]\n');
  process.exit(2);
}
const root = resolve(import.meta.dirname, '..');
const reports = join(root, 'reports', 'jest');
mkdirSync(reports, { recursive: true });
const label = process.env.EMOFLEET_TEST_LABEL ? `.${process.env.EMOFLEET_TEST_LABEL}` : '';
const name = `${basename(resolve(root, projectDir))}${label}`;
const node = process.env.EMOFLEET_TEST_NODE ?? process.execPath;
const nodeMajor = Number(
  spawnSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout.trim(),
);
// PGlite loads its file system and WASM through dynamic import(), which jest supports only with VM modules.
const nodeFlags = [
  '--experimental-vm-modules',
  ...(nodeMajor >= 20 ? ['--disable-warning=ExperimentalWarning'] : []),
];
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const passThrough = process.argv.slice(3).filter((arg) => arg !== '--');
const result = spawnSync(
  node,
  [
    ...nodeFlags,
    jest,
    '-c',
    join(root, projectDir, 'jest.config.js'),
    '--json',
    `--outputFile=${join(reports, `${name}.json`)}`,
    ...passThrough,
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
