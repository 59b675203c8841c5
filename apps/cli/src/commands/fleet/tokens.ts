import { type Command, Option } from 'commander';
import { failure, requestJson } from '../../api-client';
import { parseDuration } from '../../duration';
import { connectionOf, type ConnectionOptions, withConnectionOptions } from './connection-options';

interface TokenView {
  id: string;
  name: string;
  role: string;
  state: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  token?: string;
}

/** `emofleet tokens …`: API tokens (admin). */
export function registerTokenCommands(program: Command): void {
  const group = program
    .command('tokens')
    .description('API tokens with roles admin, operator, viewer (admin)');

  withConnectionOptions(group.command('create'))
    .description('Create an API token and print its secret, shown only now')
    .requiredOption('--name <name>', 'who or what uses it, e.g. "ci" or "alice"')
    .addOption(
      new Option('--role <role>', 'what it may do')
        .choices(['viewer', 'operator', 'admin'])
        .makeOptionMandatory(),
    )
    .option('--expires-in <duration>', 'lifetime: 45m, 12h, 30d (default: never expires)')
    .option('--json', 'print the JSON answer')
    .action(
      async (
        options: ConnectionOptions & { name: string; role: string; expiresIn?: string; json?: boolean },
      ) => {
        const { server, token } = connectionOf(options);
        const expiresAt =
          options.expiresIn === undefined
            ? undefined
            : new Date(Date.now() + parseDuration(options.expiresIn, '--expires-in')).toISOString();
        const { status, body } = await requestJson<TokenView>(server, 'POST', '/tokens', {
          token,
          body: { name: options.name, role: options.role, expiresAt },
        });
        if (status !== 201) throw failure('creating the API token', status, body);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `API token ${body.id} (${body.role}${body.expiresAt ? `, expires ${body.expiresAt}` : ''}):\n\n` +
            `  ${body.token ?? ''}\n\nit is shown only now; use it with \`emofleet login --token <token>\`\n`,
        );
      },
    );

  withConnectionOptions(group.command('list'))
    .description('List API tokens (never their secrets)')
    .option('--json', 'print one JSON object per token')
    .action(async (options: ConnectionOptions & { json?: boolean }) => {
      const { server, token } = connectionOf(options);
      let cursor: string | null = null;
      do {
        const page: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const { status, body } = await requestJson<{ items: TokenView[]; nextCursor: string | null }>(
          server,
          'GET',
          `/tokens?limit=500${page}`,
          { token },
        );
        if (status !== 200) throw failure('listing API tokens', status, body);
        for (const item of body.items) {
          if (options.json) process.stdout.write(`${JSON.stringify(item)}\n`);
          else {
            process.stdout.write(
              `${item.id.padEnd(24)} ${item.role.padEnd(8)} ${item.state.padEnd(7)} ` +
                `last used ${item.lastUsedAt ?? 'never'}  ${item.name}\n`,
            );
          }
        }
        cursor = body.nextCursor;
      } while (cursor !== null);
    });

  withConnectionOptions(group.command('revoke'))
    .description('Revoke an API token (the last usable admin token cannot be revoked)')
    .argument('<id>', 'API token id (tok_...)')
    .action(async (id: string, options: ConnectionOptions) => {
      const { server, token } = connectionOf(options);
      const { status, body } = await requestJson<TokenView>(
        server,
        'DELETE',
        `/tokens/${encodeURIComponent(id)}`,
        {
          token,
        },
      );
      if (status !== 200) throw failure(`revoking ${id}`, status, body);
      process.stdout.write(`revoked API token ${body.id}\n`);
    });
}
