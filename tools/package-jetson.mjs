// Packages the agent for a Jetson (JetPack 4.6, aarch64): one archive, dist/emofleet-agent-jetson-<version>.tar.gz,
// to be unpacked into /opt/emofleet-agent by infra/jetson/install.sh. Contents:
//   agent/          the built agent (package.json, bin/, dist/)
//   node_modules/   its production dependencies, @emofleet/protocol and @emofleet/detector (dist/ and the
//                   prebuilt linux-arm64 addon in build/Release/, checked against JetPack 4.6's glibc/libstdc++)
//   node/           the pinned Node.js 16 arm64 build (bin/node, LICENSE)
//   install/        install.sh, the systemd unit and the README from infra/jetson/
// Needs what test:arm64 needs (g++-aarch64-linux-gnu, libopenblas-dev:arm64) and a built agent/protocol/detector.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildDetectorArm64 } from './arm64/build-detector.mjs';
import { NODE16_ARM64_VERSION, node16Arm64Dir } from './arm64/node16-arm64.mjs';

const root = resolve(import.meta.dirname, '..');
const WORKSPACE_PACKAGES = new Set(['@emofleet/protocol', '@emofleet/detector']);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Registry dependencies (name@exact-version) of the agent and the workspace libraries it ships. */
function registryDependencies(packageJsons) {
  const pinned = new Map();
  for (const packageJson of packageJsons) {
    for (const [name, version] of Object.entries(packageJson.dependencies ?? {})) {
      if (WORKSPACE_PACKAGES.has(name)) continue;
      const existing = pinned.get(name);
      if (existing !== undefined && existing !== version) {
        throw new Error(`${name} is pinned to both ${existing} and ${version}`);
      }
      pinned.set(name, version);
    }
  }
  return [...pinned].map(([name, version]) => `${name}@${version}`);
}

function copyWorkspacePackage(from, to, entries) {
  mkdirSync(to, { recursive: true });
  for (const entry of entries) cpSync(join(from, entry), join(to, entry), { recursive: true });
}

run('npx', ['nx', 'run-many', '-t', 'build', '-p', 'protocol', 'detector', 'agent']);
const addon = buildDetectorArm64();
const agentPackage = readJson(join(root, 'agent', 'package.json'));
const protocolPackage = readJson(join(root, 'libs', 'protocol', 'package.json'));
const detectorPackage = readJson(join(root, 'libs', 'detector', 'package.json'));

const staging = mkdtempSync(join(tmpdir(), 'emofleet-jetson-'));
try {
  copyWorkspacePackage(join(root, 'agent'), join(staging, 'agent'), ['package.json', 'bin', 'dist']);
  // Registry dependencies are pure JavaScript (no install scripts), so an x64 npm installs what arm64 runs.
  // The detector's own dependencies (node-addon-api, node-gyp) are build-time only and are left out.
  writeFileSync(
    join(staging, 'package.json'),
    JSON.stringify({ name: 'emofleet-agent-jetson', private: true }),
  );
  run('npm', [
    'install',
    '--prefix',
    staging,
    '--omit=dev',
    '--no-package-lock',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    ...registryDependencies([agentPackage, protocolPackage]),
  ]);
  rmSync(join(staging, 'package.json'));
  const modules = join(staging, 'node_modules', '@emofleet');
  copyWorkspacePackage(join(root, 'libs', 'protocol'), join(modules, 'protocol'), ['package.json', 'dist']);
  copyWorkspacePackage(join(root, 'libs', 'detector'), join(modules, 'detector'), ['package.json', 'dist']);
  mkdirSync(join(modules, 'detector', 'build', 'Release'), { recursive: true });
  cpSync(addon, join(modules, 'detector', 'build', 'Release', 'emofleet_detector.node'));
  writeFileSync(
    join(modules, 'detector', 'package.json'),
    JSON.stringify({ ...detectorPackage, dependencies: {}, devDependencies: {}, scripts: {} }, null, 2),
  );

  const nodeDir = node16Arm64Dir();
  mkdirSync(join(staging, 'node', 'bin'), { recursive: true });
  cpSync(join(nodeDir, 'bin', 'node'), join(staging, 'node', 'bin', 'node'));
  cpSync(join(nodeDir, 'LICENSE'), join(staging, 'node', 'LICENSE'));
  copyWorkspacePackage(join(root, 'infra', 'jetson'), join(staging, 'install'), [
    'install.sh',
    'emofleet-agent.service',
    'README.md',
  ]);

  const archive = join(root, 'dist', `emofleet-agent-jetson-${agentPackage.version}.tar.gz`);
  mkdirSync(join(root, 'dist'), { recursive: true });
  run('tar', [
    '-czf',
    archive,
    '--owner=0',
    '--group=0',
    '-C',
    staging,
    'agent',
    'node_modules',
    'node',
    'install',
  ]);
  console.log(`${archive} (agent ${agentPackage.version}, Node ${NODE16_ARM64_VERSION} arm64)`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
