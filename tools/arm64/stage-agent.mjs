// Lays the built agent out as the Jetson archive does (tools/package-jetson.mjs): agent/{package.json,bin,dist}
// and node_modules/ with @emofleet/protocol and @emofleet/detector carrying the linux-arm64 addon, so that the
// arm64 Node 16 under qemu runs exactly the JavaScript a Jetson runs. Unlike the archive, the registry
// dependencies (pure JavaScript, architecture-independent) are symlinks into the workspace's node_modules
// instead of a registry install, so staging is instant and needs no network.
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

/** Stages the agent into `directory` (created); returns the path of its `emofleet-agent` entry script. */
export function stageArm64Agent(directory, arm64AddonPath) {
  const agentDist = join(root, 'agent', 'dist', 'main.js');
  if (!existsSync(agentDist)) throw new Error(`${agentDist} is missing: npx nx run agent:build`);
  for (const entry of ['package.json', 'bin', 'dist']) {
    cpSync(join(root, 'agent', entry), join(directory, 'agent', entry), { recursive: true });
  }
  const modules = join(directory, 'node_modules');
  mkdirSync(join(modules, '@emofleet'), { recursive: true });
  const agentPackage = JSON.parse(readFileSync(join(root, 'agent', 'package.json'), 'utf8'));
  for (const name of Object.keys(agentPackage.dependencies ?? {})) {
    if (name.startsWith('@emofleet/')) continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  symlinkSync(join(root, 'libs', 'protocol'), join(modules, '@emofleet', 'protocol'));
  // A copy, not a link: the detector finds its addon next to its own dist/ (after resolving symlinks).
  const detector = join(modules, '@emofleet', 'detector');
  cpSync(join(root, 'libs', 'detector', 'dist'), join(detector, 'dist'), { recursive: true });
  cpSync(join(root, 'libs', 'detector', 'package.json'), join(detector, 'package.json'));
  mkdirSync(join(detector, 'build', 'Release'), { recursive: true });
  cpSync(arm64AddonPath, join(detector, 'build', 'Release', 'emofleet_detector.node'));
  return join(directory, 'agent', 'bin', 'emofleet-agent.js');
}
