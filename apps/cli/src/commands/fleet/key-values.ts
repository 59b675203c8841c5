import { CliError } from '../../cli-error';

/** Parses `k=v` arguments into an object; `what` names them in errors. */
export function parseKeyValues(pairs: readonly string[], what: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new CliError(`${what} "${pair}": expected key=value`, 2);
    result[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return result;
}

export const collect = (value: string, previous: string[]): string[] => [...previous, value];
