import { readFileSync } from 'node:fs';

/**
 * OpenBLAS (Debian 0.3.21) picks its kernels from the CPU model number at load time; CPUs newer than the
 * library (e.g. Sapphire Rapids, as on this project's CI VMs) fall back to "Prescott" SSE3 kernels, 3-5x
 * slower. Unless the user set OPENBLAS_CORETYPE, choose the family from the CPU's feature flags before the
 * addon (and with it OpenBLAS) is loaded. Only x64 Linux needs this; ARM detection works by feature.
 */
export function chooseBlasCoreType(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['OPENBLAS_CORETYPE'] !== undefined) return env['OPENBLAS_CORETYPE'];
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  let flags: Set<string>;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    flags = new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return undefined;
  }
  const core =
    flags.has('avx512f') && flags.has('avx512bw') && flags.has('avx512vl')
      ? 'SKYLAKEX'
      : flags.has('avx2') && flags.has('fma')
        ? 'HASWELL'
        : undefined;
  if (core !== undefined) env['OPENBLAS_CORETYPE'] = core;
  return core;
}
