import { resolveToken as resolveApiToken } from '../../api-client';
import { CliError } from '../../cli-error';

/** Options every command that talks to the control plane takes. */
export interface ServerOptions {
  server?: string;
  token?: string;
}

export { SERVER_HELP as SERVER_OPTION_HELP, TOKEN_HELP as TOKEN_OPTION_HELP } from './connection-options';

/** The bearer token: `--token`, else EMOFLEET_TOKEN, else the `emofleet login` token (see api-client.ts). */
export function resolveToken(option: string | undefined): string | undefined {
  return resolveApiToken(option);
}

/** Sends a request with the token and parses the JSON answer, or throws a one-line `CliError`. */
export async function requestJson<T>(
  server: string,
  path: string,
  token: string | undefined,
  init: RequestInit & { duplex?: 'half' } = {},
): Promise<{ status: number; body: T }> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'application/json');
  if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(`${server}${path}`, { ...init, headers });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new CliError(`cannot reach the control plane at ${server}: ${cause}`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as T };
  } catch {
    throw new CliError(`${server}${path} answered ${response.status} with a body that is not JSON`);
  }
}
