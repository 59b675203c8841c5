import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fixed, textTable } from './text-table';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** `function (file:line)`, the file relative to the repository or the package under node_modules. */
  name: string;
  selfMs: number;
  /** Share of the profile's non-idle time. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled wall time the process was not idle, in ms. */
  busyMs: number;
  idleMs: number;
  top: ProfileEntry[];
  /** Self time by where the code lives (the control plane's src, one package, node internals, GC...). */
  byArea: ProfileEntry[];
}

/**
 * Summarises the main thread's `.cpuprofile` that process `pid` wrote to `directory` at exit (`node --cpu-prof
 * --cpu-prof-dir` names them `CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile`; worker threads, such as the
 * pipeline's, and forked processes write their own beside it).
 */
export function summariseCpuProfile(
  directory: string,
  pid: number,
  repositoryRoot: string,
  topN = 20,
): ProfileSummary {
  const files = readdirSync(directory).filter((name) => name.endsWith('.cpuprofile'));
  const newest = files
    .filter((name) => name.split('.')[3] === String(pid) && name.split('.')[4] === '0')
    .sort()
    .at(-1);
  if (newest === undefined)
    throw new Error(`no .cpuprofile of process ${pid} in ${directory}: did it exit normally?`);
  const file = join(directory, newest);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByNode = new Map<number, number>();
  profile.samples.forEach((nodeId, index) => {
    selfByNode.set(nodeId, (selfByNode.get(nodeId) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let idleMs = 0;
  let busyMs = 0;
  for (const [nodeId, ms] of selfByNode) {
    const frame = nodes.get(nodeId)?.callFrame;
    if (frame === undefined) continue;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const where = location(frame.url, repositoryRoot);
    const name =
      where === ''
        ? frame.functionName
        : `${frame.functionName || '(anonymous)'} (${where}:${frame.lineNumber + 1})`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const area = areaOf(frame.url, frame.functionName, repositoryRoot);
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
  }
  const ranked = (totals: Map<string, number>, count: number): ProfileEntry[] =>
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, selfMs]) => ({ name, selfMs, percent: busyMs > 0 ? (selfMs / busyMs) * 100 : 0 }));
  return { file, busyMs, idleMs, top: ranked(byFunction, topN), byArea: ranked(byArea, 12) };
}

function location(url: string, repositoryRoot: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  return path.startsWith('/') ? relative(repositoryRoot, path) : path;
}

/** `src/events`, `pg`, `node:internal`, `(garbage collector)`… */
function areaOf(url: string, functionName: string, repositoryRoot: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const where = location(url, repositoryRoot);
  if (where.startsWith('node:')) return 'node internals';
  const inControlPlane = /^apps\/control-plane\/dist[^/]*\/([^/]+)/.exec(where);
  if (inControlPlane?.[1] !== undefined) return `control plane: ${inControlPlane[1].replace(/\.js$/, '')}`;
  const inLibrary = /^(libs|agent)\/([^/]+)/.exec(where);
  if (inLibrary) return inLibrary[0];
  const scoped = /^(@[^/]+\/[^/]+|[^/]+)/.exec(where);
  return scoped?.[1] ?? where;
}

/** The profile as the benches print it: busy and idle time, self time by area, and the top functions. */
export function formatProfileSummary(profile: ProfileSummary): string[] {
  return [
    `control plane CPU profile: ${fixed(profile.busyMs / 1000, 1)} s busy, ${fixed(profile.idleMs / 1000, 1)} s ` +
      `idle (${profile.file})`,
    textTable(
      ['self time by area', 'ms', '%'],
      profile.byArea.map((entry) => [entry.name, fixed(entry.selfMs, 0), fixed(entry.percent, 1)]),
    ),
    '',
    textTable(
      ['top functions by self time', 'ms', '%'],
      profile.top.map((entry) => [entry.name, fixed(entry.selfMs, 0), fixed(entry.percent, 1)]),
    ),
  ];
}
