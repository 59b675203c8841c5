import { type EventTotals } from './support/event-ledger';
import { type Check } from './support/invariants';

export interface ScenarioRow {
  readonly name: string;
  readonly events: EventTotals | undefined;
  readonly recoveryMs: number | null;
  readonly checks: readonly Check[];
  /** Why the scenario could not finish (it then fails). */
  readonly error: string | undefined;
  readonly passed: boolean;
}

const HEADER = [
  'scenario',
  'generated',
  'stored',
  'declared lost',
  'lost',
  'duplicated',
  'recovery',
  'result',
];

/** The results as a fixed-width table, one row per scenario, then the failed checks of failed scenarios. */
export function formatTable(rows: readonly ScenarioRow[]): string {
  const cells = rows.map((row) => [
    row.name,
    ...(row.events
      ? [
          row.events.generated,
          row.events.stored,
          row.events.declaredLost,
          row.events.lost,
          row.events.duplicated,
        ].map(String)
      : ['-', '-', '-', '-', '-']),
    row.recoveryMs === null ? '-' : `${(row.recoveryMs / 1000).toFixed(1)} s`,
    row.passed ? 'ok' : 'FAILED',
  ]);
  const widths = HEADER.map((title, column) =>
    Math.max(title.length, ...cells.map((line) => (line[column] ?? '').length)),
  );
  const format = (line: readonly string[]) =>
    line
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  const lines = [format(HEADER), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(format)];
  for (const row of rows.filter((candidate) => !candidate.passed)) {
    lines.push('', `${row.name}:`);
    if (row.error) lines.push(`  error: ${row.error}`);
    for (const failed of row.checks.filter((candidate) => !candidate.ok))
      lines.push(`  ${failed.name}: ${failed.detail}`);
  }
  return lines.join('\n');
}
