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

describe('emofleet-agent simulate flags', () => {
  const simulate = (args: string[]) => runCli(['simulate', '--mqtt-url', 'mqtt://127.0.0.1:1', ...args]);

  it.each([
    [['--count', '2', '--detector', 'native'], '--detector native needs --source'],
    [['--count', '2', '--detector', 'gpu'], '--detector must be synthetic or native, got gpu'],
    [
      ['--count', '2', '--detector', 'native', '--source', 'file:x.mp4', '--frame-size', '640'],
      '--frame-size must be <width>x<height>, e.g. 640x480, got 640',
    ],
    [
      ['--count', '2', '--preinstall-bundle', 'model.tar'],
      '--preinstall-bundle and --preinstall-model go together',
    ],
    [
      ['--count', '2', '--preinstall-bundle', 'model.tar', '--preinstall-model', 'no-version'],
      '--preinstall-model must be <model id>@<version>, got no-version',
    ],
    [
      ['--devices-file', '/nonexistent/devices.json'],
      '--devices-file /nonexistent/devices.json: cannot read it (ENOENT)',
    ],
    [['--count', '0'], '--count must be a whole number from 1 to 100000, got 0'],
    [['--count', '2', '--min-score', '2'], '--min-score must be a number in [0, 1], got 2'],
  ])('refuses %j with exit code 2 and says why', async (args, message) => {
    const result = await simulate(args);
    expect(result.exitCode).toBe(2);
    expect(result.errors).toContain(message);
  });

  it('refuses a devices file that is not a list of identities', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-devices-')), 'devices.json');
    fs.writeFileSync(file, JSON.stringify([{ deviceId: 'cam-1' }]));
    const result = await simulate(['--devices-file', file]);
    expect(result.exitCode).toBe(2);
    expect(result.errors).toContain('expected a non-empty array of {"deviceId","secret"}');
  });
});
