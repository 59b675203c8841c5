// Runs one project's jest suite and records its results in reports/jest/<project>.json, which
// tools/run-tests.mjs sums into the closing `N passed, N failed` line.
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
const name = basename(resolve(root, projectDir));
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(
  process.execPath,
  [
    // PGlite loads its file system and WASM through dynamic import(), which jest supports only with VM modules.
    '--experimental-vm-modules',
    '--disable-warning=ExperimentalWarning',
    jest,
    '-c',
    join(root, projectDir, 'jest.config.js'),
    '--json',
    `--outputFile=${join(reports, `${name}.json`)}`,
    ...process.argv.slice(3),
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
