import { type Command } from 'commander';
import { apiErrorMessage, resolveServer } from '../../api-client';
import { CliError } from '../../cli-error';
import {
  requestJson,
  resolveToken,
  SERVER_OPTION_HELP,
  type ServerOptions,
  TOKEN_OPTION_HELP,
} from './control-plane-request';
import { ProgressBar } from './progress-bar';

export interface JobView {
  id: string;
  status: 'queued' | 'active' | 'completed' | 'failed';
  progress: number;
  logs: string[];
  failedReason: string | null;
  result: unknown;
}

/** Parses `--interval`: at least 100 ms. */
export function pollInterval(text: string): number {
  const interval = Number(text);
  if (!Number.isInteger(interval) || interval < 100)
    throw new CliError('--interval must be at least 100 ms', 2);
  return interval;
}

/**
 * Follows a pipeline job until it ends: a progress bar and its log lines on stderr. Resolves with the completed
 * job; throws a `CliError` (exit 1) naming the reason when it failed.
 */
export async function watchJob(
  server: string,
  token: string | undefined,
  id: string,
  intervalMs: number,
): Promise<JobView> {
  const bar = new ProgressBar(id);
  let printedLogs = 0;
  for (;;) {
    const { status, body } = await requestJson<JobView>(server, `/jobs/${encodeURIComponent(id)}`, token);
    if (status !== 200) throw new CliError(`job ${id}: ${apiErrorMessage(body) ?? `HTTP ${status}`}`);
    for (const line of body.logs.slice(printedLogs)) {
      if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
      process.stderr.write(`  ${line}\n`);
    }
    printedLogs = body.logs.length;
    bar.update(body.progress / 100, body.status);
    if (body.status === 'completed') {
      bar.done();
      return body;
    }
    if (body.status === 'failed') {
      bar.done();
      throw new CliError(`${id} failed: ${body.failedReason ?? 'no reason given'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `emofleet jobs watch <id>`: follows a pipeline job until it ends; exits non-zero when it failed. */
export function registerJobsCommand(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('Pipeline jobs (convert, benchmark, quantize, engine-build) on the control plane');
  jobs
    .command('watch <id>')
    .description('Follow a job: progress bar and log lines until it completes (exit 0) or fails (exit 1)')
    .option('--interval <ms>', 'how often to poll', '1000')
    .option('-s, --server <url>', SERVER_OPTION_HELP)
    .option('-t, --token <token>', TOKEN_OPTION_HELP)
    .action(async (id: string, options: ServerOptions & { interval: string }) => {
      const interval = pollInterval(options.interval);
      const job = await watchJob(resolveServer(options.server), resolveToken(options.token), id, interval);
      process.stdout.write(`${id} completed\n`);
      if (job.result !== null) process.stdout.write(`${JSON.stringify(job.result, null, 2)}\n`);
    });
}
