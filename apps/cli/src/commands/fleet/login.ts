import { type Command } from 'commander';
import { failure, requestJson, resolveServer } from '../../api-client';
import { CliError } from '../../cli-error';
import { credentialsPath, deleteCredentials, saveCredentials } from '../../credentials-store';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** `emofleet login` / `emofleet logout`: the server and API token every other command uses by default. */
export function registerLoginCommands(program: Command): void {
  program
    .command('login')
    .description(
      `Check an API token against a control plane and store both in ${credentialsPath()} (mode 0600)`,
    )
    .requiredOption('-s, --server <url>', 'control plane URL, e.g. https://fleet.example.com')
    .requiredOption(
      '--token <token>',
      'API token (`-` reads it from stdin, keeping it out of the shell history)',
    )
    .action(async (options: { server: string; token: string }) => {
      const server = resolveServer(options.server);
      const token = options.token === '-' ? await readStdin() : options.token.trim();
      if (token === '') throw new CliError('--token is empty', 2);
      // Any valid token may list devices (viewer): a cheap check that server and token belong together.
      const { status, body } = await requestJson(server, 'GET', '/devices?limit=1', { token });
      if (status !== 200) throw failure(`logging in to ${server}`, status, body);
      saveCredentials({ server, token });
      process.stdout.write(`logged in to ${server} (credentials in ${credentialsPath()})\n`);
    });

  program
    .command('logout')
    .description(`Forget the stored server and API token (${credentialsPath()})`)
    .action(() => {
      const removed = deleteCredentials();
      process.stdout.write(removed ? 'logged out\n' : 'not logged in\n');
    });
}
