import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Temperatures of the kernel's thermal zones (`type` and `temp`, in millidegrees, of each `thermal_zoneN` under `root`), keyed by
 * zone type (e.g. `CPU-therm`), or `thermal_zoneN` when the type is unreadable. Unreadable zones are skipped;
 * a machine without the directory gives `{}`.
 */
export async function readThermalZones(root = '/sys/class/thermal'): Promise<Record<string, number>> {
  let names: string[];
  try {
    names = (await fs.readdir(root)).filter((name) => /^thermal_zone\d+$/.test(name)).sort();
  } catch {
    return {};
  }
  const temperatures: Record<string, number> = {};
  for (const name of names.slice(0, 32)) {
    const zone = path.join(root, name);
    const millidegrees = Number((await fs.readFile(path.join(zone, 'temp'), 'utf8').catch(() => '')).trim());
    if (!Number.isFinite(millidegrees) || millidegrees === 0) continue;
    const type =
      (await fs.readFile(path.join(zone, 'type'), 'utf8').catch(() => name)).trim().slice(0, 64) || name;
    const celsius = Math.round(millidegrees) / 1000;
    if (celsius < -100 || celsius > 200) continue;
    temperatures[type in temperatures ? name : type] = celsius;
  }
  return temperatures;
}
