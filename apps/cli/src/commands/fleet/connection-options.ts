import { type Command } from 'commander';
import { resolveServer, resolveToken } from '../../api-client';

export interface ConnectionOptions {
  server?: string;
  token?: string;
}

export const SERVER_HELP =
  'control plane URL (default: $EMOFLEET_SERVER, the `emofleet login` server, or http://127.0.0.1:3000)';
export const TOKEN_HELP = 'API token (default: $EMOFLEET_TOKEN or the `emofleet login` token)';

/** Adds `--server` and `--token` to a command that talks to the control plane. */
export function withConnectionOptions(command: Command): Command {
  return command.option('-s, --server <url>', SERVER_HELP).option('--token <token>', TOKEN_HELP);
}

export function connectionOf(options: ConnectionOptions): { server: string; token: string | undefined } {
  const server = resolveServer(options.server);
  return { server, token: resolveToken(options.token, server) };
}
