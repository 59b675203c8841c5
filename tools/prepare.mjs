// Runs after `npm ci`/`npm install`: builds every project (TypeScript and the native addon) so that
// `npm start` and `npx emofleet` work straight away. Skipped when EMOFLEET_SKIP_PREPARE=1.
import { spawnSync } from 'node:child_process';

if (process.env.EMOFLEET_SKIP_PREPARE === '1') process.exit(0);
const result = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--output-style=stream'], {
  stdio: 'inherit',
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
});
process.exit(result.status ?? 1);
