import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { buildProgram } from '../../../cli/src/program';

/**
 * Runs `emofleet <args>` in-process (the control plane under test runs in the same process); returns what it
 * wrote to stdout, or throws what the command threw.
 */
export async function runCli(...args: string[]): Promise<string> {
  let output = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  });
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'emofleet', ...args]);
  } finally {
    write.mockRestore();
  }
  return output;
}

/** What a `emofleet` child process printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const CLI = resolve(__dirname, '../../../cli/bin/emofleet.js');

/**
 * Runs the built `emofleet` (apps/cli/bin) in a child process as `EMOFLEET_TOKEN` against `server`, with its
 * config under `configHome`; for commands that exit with a code or watch over time.
 */
export function spawnCli(
  connection: { server: string; token: string; configHome: string },
  ...args: string[]
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        XDG_CONFIG_HOME: connection.configHome,
        EMOFLEET_SERVER: connection.server,
        EMOFLEET_TOKEN: connection.token,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}
