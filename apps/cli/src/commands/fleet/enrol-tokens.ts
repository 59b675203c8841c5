import { type Command } from 'commander';
import { failure, requestJson } from '../../api-client';
import { parseDuration } from '../../duration';
import { connectionOf, type ConnectionOptions, withConnectionOptions } from './connection-options';
import { collect, parseKeyValues } from './key-values';

interface EnrolmentTokenView {
  id: string;
  name: string;
  maxUses: number | null;
  uses: number;
  tags: Record<string, string>;
  state: string;
  expiresAt: string;
  token?: string;
}

interface CreateOptions extends ConnectionOptions {
  name: string;
  uses?: string;
  unlimited?: boolean;
  expiresIn: string;
  tag: string[];
  json?: boolean;
}

/** `emofleet enrol-token …`: tokens new devices trade for their credentials (`POST /enrol`). */
export function registerEnrolTokenCommands(program: Command): void {
  const group = program
    .command('enrol-token')
    .description('Enrolment tokens: what a new device presents once to get its own credentials (operator)');

  withConnectionOptions(group.command('create'))
    .description('Create an enrolment token (one-time by default) and print its secret, shown only now')
    .requiredOption('--name <name>', 'what the token is for, e.g. "lab batch 3"')
    .option('--uses <n>', 'how many devices may enrol with it (default 1)')
    .option('--unlimited', 'any number of devices until it expires')
    .option('--expires-in <duration>', 'lifetime: 45m, 12h, 30d', '24h')
    .option('--tag <k=v>', 'tag given to every device enrolled with it (repeatable)', collect, [])
    .option('--json', 'print the JSON answer')
    .action(async (options: CreateOptions) => {
      const { server, token } = connectionOf(options);
      const maxUses = options.unlimited ? null : options.uses === undefined ? 1 : Number(options.uses);
      const { status, body } = await requestJson<EnrolmentTokenView>(server, 'POST', '/enrolment-tokens', {
        token,
        body: {
          name: options.name,
          maxUses,
          expiresAt: new Date(Date.now() + parseDuration(options.expiresIn, '--expires-in')).toISOString(),
          tags: parseKeyValues(options.tag, '--tag'),
        },
      });
      if (status !== 201) throw failure('creating the enrolment token', status, body);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `enrolment token ${body.id} (${body.maxUses === null ? 'unlimited uses' : `${body.maxUses} use(s)`}, ` +
          `expires ${body.expiresAt}):\n\n  ${body.token ?? ''}\n\nit is shown only now; ` +
          'a device enrols with it through POST /enrol\n',
      );
    });

  withConnectionOptions(group.command('list'))
    .description('List enrolment tokens (never their secrets)')
    .option('--json', 'print one JSON object per token')
    .action(async (options: ConnectionOptions & { json?: boolean }) => {
      const { server, token } = connectionOf(options);
      let cursor: string | null = null;
      do {
        const page: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const { status, body } = await requestJson<{
          items: EnrolmentTokenView[];
          nextCursor: string | null;
        }>(server, 'GET', `/enrolment-tokens?limit=500${page}`, { token });
        if (status !== 200) throw failure('listing enrolment tokens', status, body);
        for (const item of body.items) {
          if (options.json) process.stdout.write(`${JSON.stringify(item)}\n`);
          else {
            const uses = `${item.uses}/${item.maxUses ?? '∞'}`;
            process.stdout.write(
              `${item.id.padEnd(24)} ${item.state.padEnd(8)} ${uses.padEnd(8)} expires ${item.expiresAt}  ${item.name}\n`,
            );
          }
        }
        cursor = body.nextCursor;
      } while (cursor !== null);
    });

  withConnectionOptions(group.command('revoke'))
    .description('Revoke an enrolment token (devices already enrolled keep their credentials)')
    .argument('<id>', 'enrolment token id (enr_...)')
    .action(async (id: string, options: ConnectionOptions) => {
      const { server, token } = connectionOf(options);
      const { status, body } = await requestJson<EnrolmentTokenView>(
        server,
        'DELETE',
        `/enrolment-tokens/${encodeURIComponent(id)}`,
        { token },
      );
      if (status !== 200) throw failure(`revoking ${id}`, status, body);
      process.stdout.write(`revoked enrolment token ${body.id}\n`);
    });
}
