import { type DeviceEventAccount } from './support/event-ledger';
import { type Check } from './support/invariants';
import { type PostgresTemplate } from './support/private-postgres';

/** How long the suite's timed parts last: `full` (npm run test:faults) or `ci` (inside npm test). */
export interface SuiteSettings {
  readonly mode: 'full' | 'ci';
  /** How long the network partition lasts (the 5 minutes in full mode). */
  readonly partitionMs: number;
  /** How long load runs before and after a fault. */
  readonly loadMs: number;
  /** Longest wait for the fleet to catch up after a fault. */
  readonly recoveryTimeoutMs: number;
}

export interface ScenarioContext {
  readonly template: PostgresTemplate;
  readonly settings: SuiteSettings;
  /** Progress lines (stderr), so the table on stdout stays readable. */
  readonly log: (line: string) => void;
}

export interface ScenarioOutcome {
  readonly accounts: readonly DeviceEventAccount[];
  /** From the end of the fault until the control plane held every event generated before it; null: n/a. */
  readonly recoveryMs: number | null;
  readonly checks: readonly Check[];
}

export interface Scenario {
  /** Short name for the table, e.g. `broker restart`. */
  readonly name: string;
  run(context: ScenarioContext): Promise<ScenarioOutcome>;
}
