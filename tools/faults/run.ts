// `npm run test:faults`: the fault-injection suite (docs/faults.md). Runs every scenario on its own private
// services and processes, prints the table, `N passed, N failed`, and last `faults: <N> scenarios, lost <n>,
// duplicated <n>`; exits non-zero when a scenario failed or an event was lost or duplicated.
import { type Scenario, type SuiteSettings } from './scenario';
import { formatTable, type ScenarioRow } from './report-table';
import { SCENARIOS } from './scenarios';
import { parseSuiteArguments } from './suite-settings';
import { totals } from './support/event-ledger';
import { PostgresTemplate } from './support/private-postgres';

async function runScenario(
  scenario: Scenario,
  template: PostgresTemplate,
  settings: SuiteSettings,
): Promise<ScenarioRow> {
  const log = (line: string) =>
    process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const started = Date.now();
  log(`${scenario.name}: begin`);
  try {
    const outcome = await scenario.run({ template, settings, log });
    const events = totals(outcome.accounts);
    const passed =
      outcome.checks.every((result) => result.ok) && events.lost === 0 && events.duplicated === 0;
    log(`${scenario.name}: ${passed ? 'ok' : 'FAILED'} after ${Math.round((Date.now() - started) / 1000)} s`);
    return {
      name: scenario.name,
      events,
      recoveryMs: outcome.recoveryMs,
      checks: outcome.checks,
      error: undefined,
      passed,
    };
  } catch (error) {
    log(`${scenario.name}: error after ${Math.round((Date.now() - started) / 1000)} s`);
    const message = error instanceof Error ? error.message : String(error);
    return {
      name: scenario.name,
      events: undefined,
      recoveryMs: null,
      checks: [],
      error: message,
      passed: false,
    };
  }
}

async function main(): Promise<number> {
  const parsed = parseSuiteArguments(process.argv.slice(2));
  if (typeof parsed === 'string') {
    process.stderr.write(`${parsed}\n`);
    return 2;
  }
  const { settings, only, parallel, repeat } = parsed;
  const matching = SCENARIOS.filter(
    (scenario) => only.length === 0 || only.some((part) => scenario.name.includes(part)),
  );
  // --repeat runs each scenario several times (to hunt a rare failure).
  const selected = matching.flatMap((scenario) => Array.from({ length: repeat }, () => scenario));
  if (selected.length === 0) {
    process.stderr.write(`no scenario matches ${only.join(', ')}\n`);
    return 2;
  }
  process.stderr.write(
    `fault suite (${settings.mode}): ${selected.length} scenarios, ${parallel} at a time, partition ${settings.partitionMs / 1000} s\n`,
  );
  const template = PostgresTemplate.create();
  const rows: ScenarioRow[] = new Array<ScenarioRow>(selected.length);
  let next = 0;
  // Scenarios are independent (private services, ports and directories): a few run at once.
  const runner = async () => {
    for (let index = next++; index < selected.length; index = next++) {
      rows[index] = await runScenario(selected[index] as Scenario, template, settings);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, selected.length) }, runner));
  } finally {
    template.dispose();
  }
  const lost = rows.reduce((sum, row) => sum + (row.events?.lost ?? 0), 0);
  const duplicated = rows.reduce((sum, row) => sum + (row.events?.duplicated ?? 0), 0);
  const passed = rows.filter((row) => row.passed).length;
  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  process.stdout.write(`${passed} passed, ${rows.length - passed} failed\n`);
  process.stdout.write(`faults: ${rows.length} scenarios, lost ${lost}, duplicated ${duplicated}\n`);
  return passed === rows.length && lost === 0 && duplicated === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `fault suite: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
