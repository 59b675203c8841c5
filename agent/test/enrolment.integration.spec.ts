import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnAgent } from './support/agent-process';
import { BrokerObserver, LOCAL_MOSQUITTO_URL, uniqueTopicPrefix } from './support/broker-observer';
import { EnrolServerDouble } from './support/enrol-server-double';
import { signingKeys } from './support/signed-models';

jest.setTimeout(30_000);

describe('emofleet-agent enroll against a local HTTP server double of POST /enrol, then run with no flags (local Mosquitto)', () => {
  let dataDir: string;
  let server: EnrolServerDouble;
  let observer: BrokerObserver;
  const prefix = uniqueTopicPrefix('enrol');
  const keys = signingKeys();

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-enrol-'));
    server = await EnrolServerDouble.start('emfe_one-time', {
      deviceId: 'enrolled-device-1',
      secret: 's3cret-from-enrolment',
      mqttUrl: LOCAL_MOSQUITTO_URL,
      topicPrefix: prefix,
      signingPublicKey: keys.publicKeyPem,
      caCertificate: null,
    });
    observer = await BrokerObserver.watch(LOCAL_MOSQUITTO_URL, prefix);
  });

  afterEach(async () => {
    await observer.close();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores the identity with mode 0600, refuses a second enrolment, and runs from the stored identity', async () => {
    const enrol = spawnAgent([
      'enroll',
      '--server',
      server.url,
      '--token',
      'emfe_one-time',
      '--name',
      'bench-jetson',
      '--data-dir',
      dataDir,
    ]);
    expect(await enrol.exited).toEqual({ code: 0, signal: null });
    expect(enrol.stdout).toContain('enrolled as enrolled-device-1');
    expect(server.bodies[0]).toMatchObject({
      token: 'emfe_one-time',
      name: 'bench-jetson',
      capabilities: { simulated: false },
    });
    const file = path.join(dataDir, 'enrolment.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({
      deviceId: 'enrolled-device-1',
      secret: 's3cret-from-enrolment',
      topicPrefix: prefix,
      signingPublicKey: keys.publicKeyPem,
    });

    const again = spawnAgent([
      'enroll',
      '--server',
      server.url,
      '--token',
      'emfe_one-time',
      '--data-dir',
      dataDir,
    ]);
    expect((await again.exited).code).toBe(2);
    expect(again.stderr).toMatch(/enrolled \(use --force to replace it\)/);

    const run = spawnAgent(['run'], { EMOFLEET_DATA_DIR: dataDir, EMOFLEET_DETECTOR: 'synthetic' });
    try {
      const birth = await observer.waitFor('birth', (b) => b.deviceId === 'enrolled-device-1', 15_000);
      expect(birth).toMatchObject({
        capabilities: { simulated: false, detectorBackends: ['synthetic'] },
        runningModel: null,
      });
      expect(run.logLines().some((line) => String(line.message).includes('no manifest public key'))).toBe(
        false,
      );
    } finally {
      run.kill('SIGTERM');
      await run.exited;
    }
  });

  it("reports a refused token with the server's answer and stores nothing", async () => {
    const enrol = spawnAgent(['enroll', '--server', server.url, '--token', 'wrong', '--data-dir', dataDir]);
    expect((await enrol.exited).code).toBe(1);
    expect(enrol.stderr).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/enrol answered HTTP 401: .*used-up/);
    expect(fs.existsSync(path.join(dataDir, 'enrolment.json'))).toBe(false);
  });
});
