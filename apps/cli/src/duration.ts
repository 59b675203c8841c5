import { CliError } from './cli-error';

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `45m`, `12h`, `30d` into milliseconds; `flag` names the option in the error. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+)([mhd])$/.exec(text.trim());
  const unit = match?.[2];
  if (!match || unit === undefined || Number(match[1]) === 0) {
    throw new CliError(`${flag} "${text}": give a positive duration like 45m, 12h or 30d`, 2);
  }
  return Number(match[1]) * (UNIT_MS[unit] ?? 0);
}
