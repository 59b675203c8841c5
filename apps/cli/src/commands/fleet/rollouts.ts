import { type Command, Option } from 'commander';
import { failure, requestJson } from '../../api-client';
import { CliError } from '../../cli-error';
import { connectionOf, type ConnectionOptions, withConnectionOptions } from './connection-options';
import { collect } from './key-values';
import { ProgressBar } from './progress-bar';
import { followRolloutEvents } from './rollout-event-stream';
import { rolloutRequestBody, type RolloutRequestOptions } from './rollout-request';
import {
  deviceCounts,
  FINAL_ROLLOUT_STATES,
  isSettledDeviceState,
  renderRolloutDetail,
  renderRolloutEvent,
  renderRolloutList,
  renderRolloutPreview,
  type RolloutDetailView,
  type RolloutPreviewView,
  type RolloutSummaryView,
} from './rollout-views';

/** Exit codes of `rollouts watch` for a rollout that did not complete (1 stays for errors). */
export const WATCH_EXIT_CODES: Readonly<Record<string, number>> = { aborted: 3, canceled: 4 };

const OPERATOR_ACTIONS = [
  ['approve', 'Start the phase that waits for approval'],
  ['pause', 'Start no further device (devices under way are still checked)'],
  ['resume', 'Continue a paused rollout where it was'],
  ['cancel', 'End the rollout where it is: switched devices keep the new model, the rest are skipped'],
  ['abort', 'End the rollout and roll every device it switched back to its previous model'],
] as const;

type RequestCommandOptions = RolloutRequestOptions & ConnectionOptions & { json?: boolean };

/** Adds the options that describe a rollout (a file, or flags for the common case). */
function withRequestOptions(command: Command): Command {
  return withConnectionOptions(command)
    .option('-f, --file <path>', 'the whole request body as JSON or YAML (docs/rollouts.md); - reads stdin')
    .option('--name <name>', 'a name for people (default: "<model> to <selector>")')
    .option('--model <name@version>', 'the model version to roll out, e.g. fer@2 (must be ready)')
    .option(
      '--selector <tags>',
      'tag selector of the targets, e.g. site=lab,camera!=usb (default: every device)',
    )
    .option(
      '--phases <list>',
      'cumulative phase sizes: device counts or percentages, ending in 100% (default: 1,10%,50%,100%)',
    )
    .option('--soak <duration>', 'how long each device runs the new model under watch (45m, 12h, 1d)')
    .option(
      '--approval <mode>',
      'automatic, or manual: every phase after the first waits for `rollouts approve`',
    )
    .option('--min-fps <fps>', 'health gate: the least FPS the device must measure on the new model')
    .option('--accuracy-baseline <value>', 'accuracy to keep: a number from 0 to 1, or previous-model')
    .option(
      '--accuracy-tolerance <drop>',
      'health gate: allowed accuracy drop below the baseline (e.g. 0.01)',
    )
    .option('--max-concurrent <n>', 'at most this many devices installing at once')
    .option('--canary <deviceId>', 'a device placed first in the order (repeatable)', collect, [])
    .option('--json', 'print the JSON answer');
}

/** `emofleet rollouts …`: staged, health-gated model rollouts (docs/rollouts.md). */
export function registerRolloutCommands(program: Command): void {
  const rollouts = program
    .command('rollouts')
    .description('Staged, health-gated model rollouts: plan, start, follow, approve, pause, abort');

  withRequestOptions(rollouts.command('preview'))
    .description('Show the targets in order and the devices each phase would start now; creates nothing')
    .action(async (options: RequestCommandOptions) => {
      const body = rolloutRequestBody(options);
      const { server, token } = connectionOf(options);
      const answer = await requestJson<RolloutPreviewView>(server, 'POST', '/rollouts/preview', {
        token,
        body,
      });
      if (answer.status !== 200) throw failure('previewing the rollout', answer.status, answer.body);
      process.stdout.write(
        options.json ? `${JSON.stringify(answer.body, null, 2)}\n` : renderRolloutPreview(answer.body),
      );
    });

  withRequestOptions(rollouts.command('create'))
    .description('Create and start a rollout (operator)')
    .action(async (options: RequestCommandOptions) => {
      const body = rolloutRequestBody(options);
      const { server, token } = connectionOf(options);
      const answer = await requestJson<RolloutDetailView>(server, 'POST', '/rollouts', { token, body });
      if (answer.status !== 201) throw failure('creating the rollout', answer.status, answer.body);
      const rollout = answer.body;
      process.stdout.write(
        options.json
          ? `${JSON.stringify(rollout, null, 2)}\n`
          : `rollout ${rollout.id} "${rollout.name}" ${rollout.state}: ${rollout.targets.length} device(s) ` +
              `in ${rollout.phases} phase(s); follow it with \`emofleet rollouts watch ${rollout.id}\`\n`,
      );
    });

  withConnectionOptions(rollouts.command('list'))
    .description('Rollouts, newest first, with their devices by state')
    .addOption(
      new Option('--state <state>', 'only rollouts in this state').choices([
        'running',
        'awaiting-approval',
        'paused',
        'completed',
        'aborted',
        'canceled',
      ]),
    )
    .option('--limit <n>', 'at most this many rollouts', '50')
    .option('--json', 'print one JSON object per rollout')
    .action(async (options: ConnectionOptions & { state?: string; limit: string; json?: boolean }) => {
      if (!/^\d+$/.test(options.limit) || Number(options.limit) < 1)
        throw new CliError(`--limit "${options.limit}": expected a whole number ≥ 1`, 2);
      const limit = Number(options.limit);
      const { server, token } = connectionOf(options);
      const items: RolloutSummaryView[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ limit: String(Math.min(200, limit - items.length)) });
        if (options.state !== undefined) query.set('state', options.state);
        if (cursor !== null) query.set('cursor', cursor);
        const answer: { status: number; body: { items: RolloutSummaryView[]; nextCursor: string | null } } =
          await requestJson(server, 'GET', `/rollouts?${query.toString()}`, { token });
        if (answer.status !== 200) throw failure('listing rollouts', answer.status, answer.body);
        items.push(...answer.body.items);
        cursor = answer.body.nextCursor;
      } while (cursor !== null && items.length < limit);
      if (options.json) for (const item of items) process.stdout.write(`${JSON.stringify(item)}\n`);
      else if (items.length > 0) process.stdout.write(renderRolloutList(items));
    });

  withConnectionOptions(rollouts.command('show'))
    .description('A rollout: its phases with their devices by state, and the failed devices with the reasons')
    .argument('<id>', 'rollout id')
    .option('--json', 'print the JSON answer (every device with its floors, measurements and jobs)')
    .action(async (id: string, options: ConnectionOptions & { json?: boolean }) => {
      const { server, token } = connectionOf(options);
      const rollout = await readRollout(server, token, id);
      process.stdout.write(
        options.json ? `${JSON.stringify(rollout, null, 2)}\n` : renderRolloutDetail(rollout),
      );
    });

  withConnectionOptions(rollouts.command('watch'))
    .description('Follow a rollout live until it ends: exit 0 completed, 3 aborted, 4 canceled (1: an error)')
    .argument('<id>', 'rollout id')
    .action(async (id: string, options: ConnectionOptions) => {
      const { server, token } = connectionOf(options);
      await watchRollout(server, token, id);
    });

  for (const [action, description] of OPERATOR_ACTIONS) {
    withConnectionOptions(rollouts.command(action))
      .description(`${description} (operator)`)
      .argument('<id>', 'rollout id')
      .option('--reason <text>', 'why (recorded in the rollout events and the audit log)')
      .action(async (id: string, options: ConnectionOptions & { reason?: string }) => {
        const { server, token } = connectionOf(options);
        const answer = await requestJson<RolloutDetailView>(
          server,
          'POST',
          `/rollouts/${encodeURIComponent(id)}/${action}`,
          { token, body: options.reason === undefined ? {} : { reason: options.reason } },
        );
        if (answer.status !== 200) throw failure(`${action} of rollout ${id}`, answer.status, answer.body);
        const rollout = answer.body;
        process.stdout.write(
          `rollout ${rollout.id} ${rollout.state}` +
            `${rollout.stateReason === null ? '' : ` (${rollout.stateReason})`}: ${deviceCounts(rollout.devices)}\n`,
        );
      });
  }
}

async function readRollout(
  server: string,
  token: string | undefined,
  id: string,
): Promise<RolloutDetailView> {
  const answer = await requestJson<RolloutDetailView>(server, 'GET', `/rollouts/${encodeURIComponent(id)}`, {
    token,
  });
  if (answer.status !== 200) throw failure(`reading rollout ${id}`, answer.status, answer.body);
  return answer.body;
}

/**
 * Prints every transition of the rollout (its history first, then live) with a progress bar of the devices
 * whose part is over, until the rollout reaches a final state; then its summary. Throws a `CliError` with the
 * exit code of WATCH_EXIT_CODES when it ended aborted or canceled.
 */
async function watchRollout(server: string, token: string | undefined, id: string): Promise<void> {
  const start = await readRollout(server, token, id);
  if (!FINAL_ROLLOUT_STATES.has(start.state)) {
    const deviceStates = new Map(start.targets.map((target) => [target.deviceId, 'pending']));
    let rolloutState = start.state;
    const bar = new ProgressBar(`rollout ${start.id}`);
    await followRolloutEvents(server, token, start.id, (event) => {
      if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
      process.stdout.write(`${renderRolloutEvent(event)}\n`);
      if (event.type === 'device' && event.deviceId !== null) deviceStates.set(event.deviceId, event.to);
      if (event.type === 'rollout') rolloutState = event.to;
      const settled = [...deviceStates.values()].filter(isSettledDeviceState).length;
      bar.update(deviceStates.size === 0 ? 0 : settled / deviceStates.size, rolloutState);
      return FINAL_ROLLOUT_STATES.has(rolloutState) ? 'stop' : 'continue';
    });
    bar.done();
  }
  const end = await readRollout(server, token, id);
  process.stdout.write(renderRolloutDetail(end));
  const busy = end.targets.filter((target) => target.state === 'failed' || target.state === 'rolling-back');
  if (busy.length > 0)
    process.stdout.write(
      `${busy.length} device(s) still rolling back: \`emofleet rollouts show ${end.id}\` shows how they end\n`,
    );
  const exitCode = WATCH_EXIT_CODES[end.state];
  if (exitCode !== undefined)
    throw new CliError(
      `rollout ${end.id} ${end.state}${end.stateReason === null ? '' : `: ${end.stateReason}`}`,
      exitCode,
    );
}
