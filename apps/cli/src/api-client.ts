import { CliError } from './cli-error';

export const DEFAULT_SERVER = 'http://127.0.0.1:3000';

/** Where the CLI finds the control plane: `--server`, else EMOFLEET_SERVER, else the local default. */
export function resolveServer(option: string | undefined): string {
  return (option ?? process.env.EMOFLEET_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '');
}

/** GETs `path` from the control plane's API and returns the parsed JSON, or throws a one-line `CliError`. */
export async function getJson<T>(server: string, path: string): Promise<{ status: number; body: T }> {
  let response: Response;
  try {
    response = await fetch(`${server}${path}`, { headers: { accept: 'application/json' } });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
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

/** The message of the API's JSON error shape, if `body` has it. */
export function apiErrorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null || !('message' in error)) return undefined;
  return String((error as { message: unknown }).message);
}
