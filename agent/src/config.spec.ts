import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, defaultDataDir, loadAgentConfig } from './config';

const validEnv = {
  EMOFLEET_MQTT_URL: 'mqtt://broker:1883',
  EMOFLEET_DEVICE_ID: 'jetson-1',
  EMOFLEET_DEVICE_SECRET: 'env-secret',
  EMOFLEET_DATA_DIR: '/var/lib/emofleet-agent',
};

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ConfigError)) throw new Error('expected a ConfigError');
  return error.problems.map((problem) => `${problem.key}: ${problem.message}`);
}

describe('loadAgentConfig', () => {
  it('reads the environment and applies defaults', async () => {
    expect(await loadAgentConfig({}, validEnv)).toEqual({
      mqttUrl: 'mqtt://broker:1883',
      deviceId: 'jetson-1',
      deviceSecret: 'env-secret',
      dataDir: '/var/lib/emofleet-agent',
      topicPrefix: 'emofleet/v1',
      mqttVersion: 4,
      keepaliveSeconds: 30,
      reconnectInitialMs: 1000,
      reconnectMaxMs: 60000,
      logLevel: 'info',
      source: null,
      frameWidth: 416,
      frameHeight: 416,
      fps: 15,
      detector: 'native',
      minScore: 0.5,
      minDurationMs: 500,
      spoolMaxBytes: 64 * 1024 * 1024,
      telemetryIntervalMs: 5000,
      engineBuilder: null,
      claimDeviceClass: null,
      manifestPublicKey: null,
      caCertificate: null,
    });
  });

  it('lets flags win over environment variables and resolves the data directory', async () => {
    const config = await loadAgentConfig(
      { deviceId: 'flag-device', mqttVersion: '5', reconnectMaxMs: '5000', dataDir: 'relative/dir' },
      validEnv,
    );
    expect(config).toMatchObject({ deviceId: 'flag-device', mqttVersion: 5, reconnectMaxMs: 5000 });
    expect(config.dataDir).toBe(path.resolve('relative/dir'));
  });

  it('reads the secret from the first line of a secret file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-secret-'));
    try {
      const file = path.join(dir, 'secret');
      await fs.writeFile(file, 'file-secret\n', { mode: 0o600 });
      const env = { ...validEnv, EMOFLEET_DEVICE_SECRET: undefined };
      expect((await loadAgentConfig({ deviceSecretFile: file }, env)).deviceSecret).toBe('file-secret');
      expect(await problemsOf(loadAgentConfig({ deviceSecretFile: file }, validEnv))).toEqual([
        'deviceSecretFile: give either a secret or a secret file, not both',
      ]);
      expect(await problemsOf(loadAgentConfig({ deviceSecretFile: path.join(dir, 'missing') }, env))).toEqual(
        [`deviceSecretFile: cannot read ${path.join(dir, 'missing')}: ENOENT`],
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('lists every bad key at once, without echoing the secret', async () => {
    const problems = await problemsOf(
      loadAgentConfig(
        {
          mqttUrl: 'http://broker',
          deviceId: 'a+b',
          topicPrefix: 'x/#',
          mqttVersion: '3',
          keepaliveSeconds: '2',
          reconnectInitialMs: 'soon',
          logLevel: 'loud',
        },
        {},
      ),
    );
    expect(problems).toEqual([
      'mqttUrl: must be an mqtt://, mqtts://, ws:// or wss:// URL with a host',
      'deviceId: device id may contain only letters, digits, ".", "_", ":" and "-", and must start with a letter or digit',
      'deviceSecret: is required',
      'topicPrefix: topic prefix contains an MQTT wildcard ("+" or "#") or NUL',
      'mqttVersion: must be 4 (MQTT 3.1.1) or 5 (MQTT 5)',
      'keepaliveSeconds: must be between 5 and 1200',
      'reconnectInitialMs: must be a whole number',
      'logLevel: must be one of debug, info, warn, error',
    ]);
  });

  it('requires the URL, the device id and the secret', async () => {
    expect(await problemsOf(loadAgentConfig({}, {}))).toEqual([
      'mqttUrl: is required',
      'deviceId: device id is empty',
      'deviceSecret: is required',
    ]);
  });

  it('refuses a reconnect cap below the initial delay', async () => {
    const problems = await problemsOf(
      loadAgentConfig({ reconnectInitialMs: '5000', reconnectMaxMs: '1000' }, validEnv),
    );
    expect(problems).toEqual(['reconnectMaxMs: must not be smaller than the initial reconnect delay']);
  });

  it('reads a claimed device class (tests only) and the engine builder command', async () => {
    const config = await loadAgentConfig(
      { claimDeviceClass: 'gpuArch=sm_53,tensorrt=8.2.1,jetpack=4.6.1', engineBuilder: '/opt/trtexec' },
      validEnv,
    );
    expect(config.claimDeviceClass).toEqual({
      gpuArch: 'sm_53',
      tensorrtVersion: '8.2.1',
      jetpackVersion: '4.6.1',
    });
    expect(config.engineBuilder).toBe('/opt/trtexec');
    expect(
      await problemsOf(loadAgentConfig({ claimDeviceClass: 'gpuArch=53,tensorrt=8.2' }, validEnv)),
    ).toEqual(['claimDeviceClass: gpuArch "53" must look like sm_53']);
    expect(await problemsOf(loadAgentConfig({ claimDeviceClass: 'cuda=10.2' }, validEnv))).toEqual([
      'claimDeviceClass: "cuda=10.2" is not one of gpuArch=…, tensorrt=…, jetpack=…',
    ]);
  });

  it('formats the error with flag and environment variable names', async () => {
    await expect(loadAgentConfig({ keepaliveSeconds: '1' }, validEnv)).rejects.toThrow(
      'Invalid agent configuration:\n  --keepalive-seconds / EMOFLEET_KEEPALIVE_SECONDS: must be between 5 and 1200',
    );
  });
});

describe('defaultDataDir', () => {
  it('prefers the systemd state directory, else a per-user state directory', () => {
    expect(defaultDataDir({ STATE_DIRECTORY: '/var/lib/emofleet-agent:/var/lib/other' })).toBe(
      '/var/lib/emofleet-agent',
    );
    expect(defaultDataDir({})).toBe(path.join(os.homedir(), '.local', 'state', 'emofleet-agent'));
  });
});
