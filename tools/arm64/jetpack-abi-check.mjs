// Checks that a linux-arm64 shared object only imports symbol versions that JetPack 4.6 (Ubuntu 18.04)
// provides: glibc 2.27, libstdc++ from GCC 8 (GLIBCXX_3.4.25, CXXABI_1.3.11), libgcc_s GCC_8.0.0.
import { spawnSync } from 'node:child_process';

const JETPACK_46_LIMITS = { GLIBC: '2.27', GLIBCXX: '3.4.25', CXXABI: '1.3.11', GCC: '8.0.0' };

function compareVersions(a, b) {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Imported symbols whose version is newer than JetPack 4.6 has, as `symbol@VERSION` strings. */
export function symbolsTooNewForJetpack46(sharedObject) {
  const dump = spawnSync('aarch64-linux-gnu-objdump', ['-T', sharedObject], { encoding: 'utf8' });
  if (dump.status !== 0) throw new Error(`aarch64-linux-gnu-objdump -T ${sharedObject}: ${dump.stderr}`);
  const tooNew = [];
  for (const line of dump.stdout.split('\n')) {
    const match = /\*UND\*\s+\S+\s+\(?(GLIBC|GLIBCXX|CXXABI|GCC)_([0-9.]+)\)?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, library, version, symbol] = match;
    if (compareVersions(version, JETPACK_46_LIMITS[library]) > 0)
      tooNew.push(`${symbol}@${library}_${version}`);
  }
  return tooNew;
}

export function checkJetsonCompatibility(sharedObject) {
  const tooNew = symbolsTooNewForJetpack46(sharedObject);
  if (tooNew.length > 0) {
    throw new Error(
      `${sharedObject} imports symbols JetPack 4.6 (glibc 2.27, GCC 8 libstdc++) does not have: ${tooNew.join(', ')}`,
    );
  }
}
