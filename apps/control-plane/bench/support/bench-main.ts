import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CleanupStack } from './cleanup-stack';
import { buildOlderThanSources } from './control-plane-process';

/** A progress line on stderr: `[bench:<name> HH:MM:SS] line`. */
export const benchProgress =
  (name: string) =>
  (line: string): void => {
    process.stderr.write(`[bench:${name} ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  };

export const describeError = (error: unknown): string =>
  error instanceof Error ? error.message : JSON.stringify(error);

export interface BenchEntryPoint<TOptions extends { json: boolean }, TResult> {
  /** `fleet` for `npm run bench:fleet`. */
  name: string;
  usage: string;
  /** Parses the arguments; throws an `isUsageError` error for a bad one. */
  parse: (argv: string[]) => TOptions;
  isUsageError: (error: unknown) => error is Error;
  run: (options: TOptions, cleanup: CleanupStack, workDirectory: string) => Promise<TResult>;
  format: (result: TResult) => string;
  passed: (result: TResult) => boolean;
  /** Keep the work directory (logs, profiles) even after a passing run. */
  keepWorkDirectory?: (options: TOptions) => boolean;
  /** What the cleanup stops, for its progress line. */
  cleaningUp: string;
}

/**
 * The shared entry point of the control plane's benches: usage and argument errors (exit 2), a warning when the
 * built control plane is older than its sources, a cleanup stack that also runs on Ctrl-C, a work directory for
 * the logs that is kept when the run fails, the report (a table, or one JSON line with `--json`) and the exit code
 * (0 when the run passed its checks, 1 otherwise).
 */
export function runBenchMain<TOptions extends { json: boolean }, TResult>(
  bench: BenchEntryPoint<TOptions, TResult>,
): void {
  const progress = benchProgress(bench.name);
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `bench:${bench.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );

  async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    if (argv.includes('--help')) {
      process.stdout.write(`${bench.usage}\n`);
      return 0;
    }
    let options: TOptions;
    try {
      options = bench.parse(argv);
    } catch (error) {
      if (!bench.isUsageError(error)) throw error;
      process.stderr.write(`${error.message}\n\n${bench.usage}\n`);
      return 2;
    }
    if (buildOlderThanSources())
      progress('warning: apps/control-plane/dist is older than src; `npx nx run control-plane:build` first');
    const cleanup = new CleanupStack((what, outcome) =>
      progress(
        `cleanup: ${what} ${outcome.error === undefined ? 'done' : `failed: ${describeError(outcome.error)}`} ` +
          `(${outcome.ms} ms)`,
      ),
    );
    // Ctrl-C, or `timeout` and kill: the fleet, broker, control plane and database do not outlive the bench.
    for (const [signal, exitCode] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      process.once(signal, () => {
        progress(`${signal}: cleaning up`);
        void cleanup.run().finally(() => process.exit(exitCode));
      });
    }
    const workDirectory = mkdtempSync(join(tmpdir(), `emofleet-${bench.name}-bench-`));
    let passed = false;
    let keep = false;
    try {
      keep = bench.keepWorkDirectory?.(options) ?? false;
      const result = await bench.run(options, cleanup, workDirectory);
      process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : bench.format(result));
      passed = bench.passed(result);
      return passed ? 0 : 1;
    } finally {
      progress(`cleaning up (${bench.cleaningUp})`);
      await cleanup.run();
      if (passed && !keep) rmSync(workDirectory, { recursive: true, force: true });
      else progress(`logs kept in ${workDirectory}`);
    }
  }
}
