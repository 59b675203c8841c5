// Builds the addon with node-gyp. Uses the running Node's own headers when they are installed next to it
// (Debian/NodeSource/official tarballs ship include/node), so no header download is needed.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const projectDir = path.resolve(__dirname, '..');
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const prefix = path.dirname(path.dirname(process.execPath));
const args = [nodeGyp, 'rebuild', `--jobs=${process.env.EMOFLEET_BUILD_JOBS ?? '2'}`];
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const result = spawnSync(process.execPath, args, { cwd: projectDir, stdio: 'inherit' });
process.exit(result.status ?? 1);
