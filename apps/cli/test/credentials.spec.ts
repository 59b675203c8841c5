import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServer, resolveToken } from '../src/api-client';
import { credentialsPath, loadCredentials, saveCredentials } from '../src/credentials-store';

describe('stored credentials and their precedence', () => {
  let directory: string;
  const saved = { ...process.env };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'cli-credentials-'));
    process.env.XDG_CONFIG_HOME = directory;
    delete process.env.EMOFLEET_SERVER;
    delete process.env.EMOFLEET_TOKEN;
  });

  afterEach(() => {
    process.env = { ...saved };
    rmSync(directory, { recursive: true, force: true });
  });

  it('stores server and token in $XDG_CONFIG_HOME/emofleet/credentials.json, readable by the owner only', () => {
    saveCredentials({ server: 'https://fleet.example', token: 'emf_secret' });
    const path = credentialsPath();
    expect(path).toBe(join(directory, 'emofleet', 'credentials.json'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(directory, 'emofleet')).mode & 0o777).toBe(0o700);
    expect(loadCredentials()).toEqual({ server: 'https://fleet.example', token: 'emf_secret' });
  });

  it('prefers flags, then the environment, then the stored login, then the default', () => {
    expect(resolveServer(undefined)).toBe('http://127.0.0.1:3000');
    expect(resolveToken(undefined)).toBeUndefined();
    saveCredentials({ server: 'https://fleet.example/', token: 'emf_stored' });
    expect(resolveServer(undefined)).toBe('https://fleet.example');
    expect(resolveToken(undefined, 'https://fleet.example')).toBe('emf_stored');
    process.env.EMOFLEET_SERVER = 'http://env.example';
    process.env.EMOFLEET_TOKEN = 'emf_env';
    expect(resolveServer(undefined)).toBe('http://env.example');
    expect(resolveToken(undefined, 'http://env.example')).toBe('emf_env');
    expect(resolveServer('http://flag.example/')).toBe('http://flag.example');
    expect(resolveToken('emf_flag', 'http://flag.example')).toBe('emf_flag');
  });

  it('never sends the stored token to a different server', () => {
    saveCredentials({ server: 'https://fleet.example', token: 'emf_stored' });
    expect(resolveToken(undefined, 'https://other.example')).toBeUndefined();
  });

  it('names a damaged credentials file', () => {
    saveCredentials({ server: 'x', token: 'y' });
    writeFileSync(credentialsPath(), '{"server": 1}');
    expect(() => loadCredentials()).toThrow(/credentials\.json lacks "server" or "token"/);
  });
});
