import { cpus } from 'node:os';
import { type BenchDatabase } from './bench-database';

/** The machine a bench ran on, as its report heads it. */
export interface BenchMachine {
  cpuModel: string;
  cores: number;
  node: string;
  postgres: string;
}

export async function describeBenchMachine(database: BenchDatabase): Promise<BenchMachine> {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    postgres: await database.serverVersion(),
  };
}
