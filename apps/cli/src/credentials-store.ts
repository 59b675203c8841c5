import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './cli-error';

/** What `emofleet login` stores: the control plane and an API token for it. */
export interface StoredCredentials {
  server: string;
  token: string;
}

/** `$XDG_CONFIG_HOME/emofleet/credentials.json`, by default `~/.config/emofleet/credentials.json`. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const configHome = env.XDG_CONFIG_HOME?.trim() ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(configHome, 'emofleet', 'credentials.json');
}

/** The stored credentials, or undefined when nobody logged in. A damaged file is an error naming the file. */
export function loadCredentials(path = credentialsPath()): StoredCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not JSON: run \`emofleet login\` again`);
  }
  const { server, token } = (parsed ?? {}) as Partial<Record<string, unknown>>;
  if (typeof server !== 'string' || typeof token !== 'string') {
    throw new CliError(`${path} lacks "server" or "token": run \`emofleet login\` again`);
  }
  return { server, token };
}

/** Writes the credentials readable by the user only (file 0600, directory 0700). */
export function saveCredentials(credentials: StoredCredentials, path = credentialsPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // The mode above applies only to a new file: tighten an existing one too.
  chmodSync(path, 0o600);
}

export function deleteCredentials(path = credentialsPath()): boolean {
  try {
    rmSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
