import { type SuiteSettings } from './scenario';

const MINUTE = 60_000;

/**
 * The suite's durations. `--ci` (used by `npm test`) keeps the whole suite near 10 minutes on two cores: a 20 s
 * partition and short load phases. `--partition-seconds N` overrides the partition in either mode.
 * Returns a message naming the bad argument when one is wrong.
 */
export function parseSuiteArguments(
  argv: readonly string[],
): { settings: SuiteSettings; only: string[]; parallel: number; repeat: number } | string {
  let mode: SuiteSettings['mode'] = 'full';
  let partitionMs: number | undefined;
  let parallel: number | undefined;
  let repeat = 1;
  const only: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--ci') mode = 'ci';
    else if (argument === '--partition-seconds') {
      const value = Number(argv[++index]);
      if (!Number.isInteger(value) || value < 1)
        return `--partition-seconds needs a whole number of seconds >= 1`;
      partitionMs = value * 1000;
    } else if (argument === '--parallel') {
      const value = Number(argv[++index]);
      if (!Number.isInteger(value) || value < 1 || value > 8)
        return '--parallel needs a whole number from 1 to 8';
      parallel = value;
    } else if (argument === '--repeat') {
      const value = Number(argv[++index]);
      if (!Number.isInteger(value) || value < 1 || value > 20)
        return '--repeat needs a whole number from 1 to 20';
      repeat = value;
    } else if (argument === '--only') {
      const value = argv[++index];
      if (value === undefined || value === '') return '--only needs a part of a scenario name';
      only.push(value);
    } else
      return `unknown argument ${argument ?? ''} (known: --ci, --partition-seconds N, --parallel N, --repeat N, --only NAME)`;
  }
  const settings: SuiteSettings =
    mode === 'ci'
      ? { mode, partitionMs: partitionMs ?? 20_000, loadMs: 4000, recoveryTimeoutMs: 2 * MINUTE }
      : { mode, partitionMs: partitionMs ?? 5 * MINUTE, loadMs: 15_000, recoveryTimeoutMs: 5 * MINUTE };
  return { settings, only, parallel: parallel ?? (mode === 'ci' ? 3 : 2), repeat };
}
