import { readdirSync, readFileSync } from 'node:fs';

/** Linux clock ticks per second (`getconf CLK_TCK`), the unit of /proc CPU times. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used, from /proc; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may contain spaces) start at field 3 (state); utime and stime are
    // fields 14 and 15.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by each process whose command name is `name` (e.g. every PostgreSQL backend). */
export function namedProcessesCpuSeconds(name: string): Map<number, number> {
  const used = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name)
        used.set(Number(entry), processCpuSeconds(Number(entry)));
    } catch {
      // The process ended while we looked.
    }
  }
  return used;
}

/**
 * CPU seconds the processes of `after` used since `before` (a process started in between counts whole; one that
 * ended in between is missing, so this can only undercount).
 */
export function cpuSecondsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += Math.max(0, seconds - (before.get(pid) ?? 0));
  return total;
}

/** Busy and total CPU time of the whole machine (all cores, all users), from /proc/stat. */
export function machineCpuTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1, 9) // user nice system idle iowait irq softirq steal (guest time is already in user)
    .map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}
