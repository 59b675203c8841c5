import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCli } from './cli';

/** Runs `emofleet-agent <args>` up to configuration loading and returns what it reported. */
async function runCli(args: string[]): Promise<{ errors: string; exitCode: number | undefined }> {
  let errors = '';
  let exitCode: number | undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-cli-'));
  try {
    const cli = buildCli({
      env: { EMOFLEET_DATA_DIR: dataDir },
      agentVersion: '0.0.0-test',
      signals: process,
      writeOutput: () => undefined,
      writeError: (text) => (errors += text),
      setExitCode: (code) => (exitCode = code),
    });
    await cli.parseAsync(['node', 'emofleet-agent', ...args]);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return { errors, exitCode };
}

describe('emofleet-agent run flags', () => {
  it('passes --secret and --secret-file through to the configuration', async () => {
    const withSecret = await runCli(['run', '--device-id', 'dev-1', '--secret', 's3cret']);
    expect(withSecret.exitCode).toBe(2);
    // The broker URL is missing; the secret given by flag is not reported as missing.
    expect(withSecret.errors).toMatch(/--mqtt-url/);
    expect(withSecret.errors).not.toMatch(/--secret \/ EMOFLEET_DEVICE_SECRET: is required/);

    const both = await runCli(['run', '--secret', 'a', '--secret-file', '/nonexistent/secret']);
    expect(both.errors).toMatch(/either a secret or a secret file/);
  });
});
