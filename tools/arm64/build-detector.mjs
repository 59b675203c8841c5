// Cross-builds the native detector for linux-arm64 (Jetson TX1, JetPack 4.6) with Debian's
// g++-aarch64-linux-gnu and the arm64 multiarch OpenBLAS (libopenblas-dev:arm64), against the headers of the
// Node 16 arm64 build the devices run (--nodedir, no header download). Output:
// libs/detector/build-arm64/Release/emofleet_detector.node
//
// node-gyp always builds into ./build of the directory holding binding.gyp, which is the x64 addon's place.
// The arm64 build therefore runs in libs/detector/build-arm64/, which links binding.gyp and the sources back.
// target_arch=arm64 keeps binding.gyp's x64-only -march=native out; EMOFLEET_PORTABLE=1 makes sure of it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { checkJetsonCompatibility } from './jetpack-abi-check.mjs';
import { node16Arm64Dir } from './node16-arm64.mjs';

const CROSS_PREFIX = 'aarch64-linux-gnu-';
const root = resolve(import.meta.dirname, '..', '..');
const detectorDir = join(root, 'libs', 'detector');
const buildRoot = join(detectorDir, 'build-arm64');
const ABI_SHIMS = join(import.meta.dirname, 'glibc-2.27-shims');
export const ARM64_ADDON_PATH = join(buildRoot, 'Release', 'emofleet_detector.node');

function requireTool(name, aptPackage) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`${name} not found: apt-get install -y ${aptPackage}`);
}

function prepareBuildRoot() {
  mkdirSync(join(buildRoot, 'Release'), { recursive: true });
  // Generated output only: keep it out of git without touching the repository's .gitignore.
  writeFileSync(join(buildRoot, '.gitignore'), '*\n');
  for (const entry of ['binding.gyp', 'native', 'scripts']) {
    const link = join(buildRoot, entry);
    rmSync(link, { force: true, recursive: false });
    symlinkSync(join('..', entry), link);
  }
}

export function buildDetectorArm64() {
  requireTool(`${CROSS_PREFIX}g++`, 'g++-aarch64-linux-gnu');
  if (!existsSync('/usr/include/aarch64-linux-gnu/cblas.h')) {
    throw new Error(
      'arm64 OpenBLAS missing: dpkg --add-architecture arm64 && apt-get update && apt-get install -y libopenblas-dev:arm64',
    );
  }
  const nodeDir = node16Arm64Dir();
  prepareBuildRoot();
  const nodeGyp = createRequire(join(detectorDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  const jobs = process.env.EMOFLEET_BUILD_JOBS ?? '2';
  const result = spawnSync(
    process.execPath,
    [nodeGyp, 'rebuild', '--arch=arm64', `--nodedir=${nodeDir}`, `--jobs=${jobs}`],
    {
      cwd: buildRoot,
      stdio: 'inherit',
      env: {
        ...process.env,
        CC: `${CROSS_PREFIX}gcc`,
        CXX: `${CROSS_PREFIX}g++`,
        LINK: `${CROSS_PREFIX}g++`,
        AR: `${CROSS_PREFIX}ar`,
        // Only the host tools gyp itself may need use the build machine's compilers.
        CC_host: 'gcc',
        CXX_host: 'g++',
        EMOFLEET_PORTABLE: '1',
        // Debian 12's cross toolchain is GCC 12 / glibc 2.36, JetPack 4.6 has glibc 2.27 and GCC 8's
        // libstdc++: glibc-2.27-shims/ keeps GCC 12's headers from importing newer symbols, and
        // checkJetsonCompatibility below fails the build if anything newer is still imported.
        CXXFLAGS: `-isystem ${ABI_SHIMS} -include ${join(ABI_SHIMS, 'jetpack-4.6-abi.h')}`,
      },
    },
  );
  if (result.status !== 0) throw new Error(`node-gyp failed for linux-arm64 (exit ${result.status})`);
  copyFileSync(join(buildRoot, 'build', 'Release', 'emofleet_detector.node'), ARM64_ADDON_PATH);
  checkJetsonCompatibility(ARM64_ADDON_PATH);
  return ARM64_ADDON_PATH;
}

if (import.meta.filename === resolve(process.argv[1] ?? '')) {
  console.log(buildDetectorArm64());
}
