import { CliError } from './cli-error';
import { loadCredentials } from './credentials-store';

export const DEFAULT_SERVER = 'http://127.0.0.1:3000';

const normalise = (server: string): string => server.trim().replace(/\/+$/, '');

/**
 * Where the CLI finds the control plane: `--server`, else EMOFLEET_SERVER, else the server of `emofleet login`,
 * else the local default.
 */
export function resolveServer(option: string | undefined): string {
  const configured = option ?? nonEmpty(process.env.EMOFLEET_SERVER) ?? loadCredentials()?.server;
  return normalise(configured ?? DEFAULT_SERVER);
}

/**
 * The API token: `--token`, else EMOFLEET_TOKEN, else the token of `emofleet login`. When `server` is given,
 * the stored token is only used for the server it was stored for, so it never leaks to another server.
 */
export function resolveToken(option: string | undefined, server?: string): string | undefined {
  const explicit = nonEmpty(option) ?? nonEmpty(process.env.EMOFLEET_TOKEN);
  if (explicit !== undefined) return explicit;
  const stored = loadCredentials();
  if (!stored) return undefined;
  return server === undefined || normalise(stored.server) === normalise(server) ? stored.token : undefined;
}

/**
 * Calls the control plane with the resolved token (if any) and returns the status and parsed JSON, or throws a
 * one-line `CliError` when the server cannot be reached or does not answer JSON.
 */
export async function requestJson<T>(
  server: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = options.token ?? resolveToken(undefined, server);
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${server}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new CliError(`cannot reach the control plane at ${server}: ${cause}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError(`${server}${path} answered ${response.status} with a body that is not JSON`);
  }
  return { status: response.status, body: body as T };
}

/** GETs `path` with the resolved token. */
export function getJson<T>(server: string, path: string): Promise<{ status: number; body: T }> {
  return requestJson<T>(server, 'GET', path);
}

/** The message of the API's JSON error shape, if `body` has it. */
export function apiErrorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = body.error;
  if (typeof error !== 'object' || error === null || !('message' in error)) return undefined;
  return String(error.message);
}

/** Throws a `CliError` saying what failed, with the API's message (and a hint for 401). */
export function failure(what: string, status: number, body: unknown): CliError {
  const message = apiErrorMessage(body) ?? `HTTP ${status}`;
  const hint = status === 401 ? ' (log in with `emofleet login --server <url> --token <token>`)' : '';
  return new CliError(`${what} failed: ${message}${hint}`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
