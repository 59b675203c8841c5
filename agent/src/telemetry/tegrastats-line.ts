import { type GpuStats } from '@emofleet/protocol';

export interface TegrastatsSample {
  /** GR3D (the integrated GPU) load, relative to its current frequency. */
  readonly gpu: GpuStats | null;
  /** Sensor name → °C, e.g. `CPU`, `GPU`, `AO`, `thermal` (as tegrastats names them). */
  readonly temperaturesC: Record<string, number>;
}

const MIB = 1024 * 1024;

/**
 * Parses one line of `tegrastats` output. Handles the layouts of L4T R28–R36 (TX1, TX2, Nano, Xavier, Orin):
 * `GR3D_FREQ 62%@306`, `GR3D_FREQ 0%@[305,305]`, `GR3D_FREQ 0%` (no frequency), temperatures as `CPU@36.5C`
 * or `cpu@53.062C`. Jetsons share RAM between CPU and GPU and tegrastats reports no separate GPU memory, so
 * the GPU memory figures are the shared RAM's (`RAM used/totalMB`). Returns null for a line with no GR3D field
 * and no temperature (not a tegrastats line).
 */
export function parseTegrastatsLine(line: string): TegrastatsSample | null {
  const load = /\bGR3D_FREQ (\d+(?:\.\d+)?)%/.exec(line);
  const ram = /\bRAM (\d+)\/(\d+)MB\b/.exec(line);
  const temperaturesC: Record<string, number> = {};
  for (const match of line.matchAll(/\b([A-Za-z][A-Za-z0-9_]*)@(-?\d+(?:\.\d+)?)C\b/g)) {
    const celsius = Number(match[2]);
    if (Object.keys(temperaturesC).length < 32 && celsius >= -100 && celsius <= 200) {
      temperaturesC[match[1] as string] = celsius;
    }
  }
  if (load === null && Object.keys(temperaturesC).length === 0) return null;
  const gpu: GpuStats | null =
    load === null
      ? null
      : {
          loadPercent: Math.min(100, Number(load[1])),
          ...(ram === null
            ? {}
            : { memoryUsedBytes: Number(ram[1]) * MIB, memoryTotalBytes: Number(ram[2]) * MIB }),
        };
  return { gpu, temperaturesC };
}
