#!/usr/bin/env node
// The `emofleet` command (`npx emofleet --help`). Runs the CLI built by `npm ci` (prepare) or `npm run build`.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('emofleet: the CLI is not built yet; run `npm run build` in the repository root\n');
  process.exit(1);
}
require(entry);
