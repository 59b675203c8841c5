import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { apiRequest } from './support/api-request';
import { type Enrolment } from './support/enrolment';
import { runCli as emofleet } from './support/cli-runner';
import { eventually } from './support/eventually';
import { ProtocolDevice } from './support/protocol-device';
import {
  createTestDatabase,
  testAdminToken,
  testConfig,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from './support/test-environment';

describe('the emofleet CLI against a control plane', () => {
  let controlPlane: RunningControlPlane;
  let configHome: string;
  let topicPrefix: string;
  const devices: ProtocolDevice[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('embedded', { DATABASE_URL: database.url });
    cleanups.push(test.cleanup);
    topicPrefix = test.topicPrefix;
    controlPlane = await startControlPlane(test.config, () => undefined);
    configHome = mkdtempSync(join(tmpdir(), 'emofleet-cli-home-'));
    cleanups.push(() => rmSync(configHome, { recursive: true, force: true }));
    process.env.XDG_CONFIG_HOME = configHome;
    delete process.env.EMOFLEET_SERVER;
    delete process.env.EMOFLEET_TOKEN;
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    process.env = { ...savedEnv };
    for (const device of devices) await device.close();
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  it('refuses to log in with a bad token and says how to fix it', async () => {
    await expect(emofleet('login', '--server', controlPlane.httpUrl, '--token', 'emf_wrong')).rejects.toThrow(
      /logging in to .* failed: unknown API token \(log in with `emofleet login/,
    );
  });

  it('logs in, storing server and token 0600, and every command then uses them', async () => {
    const output = await emofleet('login', '--server', controlPlane.httpUrl, '--token', testAdminToken);
    expect(output).toContain(`logged in to ${controlPlane.httpUrl}`);
    const file = join(configHome, 'emofleet', 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      server: controlPlane.httpUrl,
      token: testAdminToken,
    });
    expect(await emofleet('devices', 'list')).toBe('');
  });

  it('creates, lists and revokes API tokens', async () => {
    const created = await emofleet(
      'tokens',
      'create',
      '--name',
      'ci',
      '--role',
      'operator',
      '--expires-in',
      '30d',
    );
    const secret = /\n {2}(emf_\S+)\n/.exec(created)?.[1];
    const id = /API token (tok_[0-9a-f]+)/.exec(created)?.[1];
    expect(secret).toBeDefined();
    expect(await emofleet('tokens', 'list')).toMatch(
      new RegExp(`${id ?? '-'} +operator active +last used never +ci`),
    );
    // The new operator token works for operator commands, and is refused admin ones.
    expect(await emofleet('enrol-token', 'list', '--token', secret ?? '')).toBe('');
    await expect(emofleet('tokens', 'list', '--token', secret ?? '')).rejects.toThrow(/needs the admin role/);
    expect(await emofleet('tokens', 'revoke', id ?? '')).toContain(`revoked API token ${id ?? ''}`);
    await expect(emofleet('devices', 'list', '--token', secret ?? '')).rejects.toThrow(/was revoked/);
  });

  it('drives enrolment and the registry: enrol-token, devices list with filters, devices tag', async () => {
    const created = await emofleet(
      'enrol-token',
      'create',
      '--name',
      'lab batch',
      '--uses',
      '2',
      '--tag',
      'site=lab',
    );
    const secret = /\n {2}(emfe_\S+)\n/.exec(created)?.[1] ?? '';
    const tokenId = /enrolment token (enr_[0-9a-f]+)/.exec(created)?.[1] ?? '';
    expect(created).toContain('2 use(s)');

    // Two devices enrol with it (as agents do) and come online.
    const enrolled: Enrolment[] = [];
    for (const name of ['cam-1', 'cam-2']) {
      const response = await apiRequest<Enrolment>(controlPlane.httpUrl, 'POST', '/enrol', {
        token: null,
        body: { token: secret, name },
      });
      expect(response.status).toBe(201);
      enrolled.push(response.body);
    }
    const [first, second] = enrolled as [Enrolment, Enrolment];
    const device = await ProtocolDevice.connect(first.mqttUrl, topicPrefix, first.deviceId, first.secret);
    devices.push(device);
    await device.birth(1);
    await device.state('online', 1);

    expect(await emofleet('enrol-token', 'list')).toMatch(new RegExp(`${tokenId} +used-up +2/2`));
    const online = await eventually(
      () => emofleet('devices', 'list', '--tag', 'site=lab', '--online'),
      (output) => output.includes(first.deviceId),
      { what: 'device listed online' },
    );
    expect(online).not.toContain(second.deviceId);
    expect(await emofleet('devices', 'list', '--tag', 'site=lab', '--offline')).toContain(second.deviceId);

    expect(await emofleet('devices', 'tag', second.deviceId, 'camera=csi', 'site-')).toBe(
      `${second.deviceId} camera=csi\n`,
    );
    expect(await emofleet('devices', 'list', '--tag', 'camera=csi', '--json')).toContain(
      `"id":"${second.deviceId}"`,
    );
    await expect(emofleet('devices', 'tag', second.deviceId, 'oops')).rejects.toThrow(
      /expected k=v \(set\) or k- \(remove\)/,
    );

    expect(await emofleet('enrol-token', 'revoke', tokenId)).toBe(`revoked enrolment token ${tokenId}\n`);
  });

  it('forgets the login on logout', async () => {
    expect(await emofleet('logout')).toBe('logged out\n');
    await expect(emofleet('devices', 'list', '--server', controlPlane.httpUrl)).rejects.toThrow(
      /needs an API token/,
    );
  });
});
