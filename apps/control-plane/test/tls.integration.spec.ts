import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { request } from 'node:https';
import { connect } from 'node:net';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { connectAsDevice, type Enrolment } from './support/enrolment';
import { createTestCertificates, type TestCertificates } from './support/test-certificates';
import {
  createTestDatabase,
  testAdminToken,
  testConfig,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from './support/test-environment';

/** An https request trusting only `ca`; resolves with the status and parsed JSON body. */
function httpsJson<T>(
  url: string,
  ca: Buffer,
  options: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const outgoing = request(url, { method: options.method ?? 'GET', ca, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T,
        }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

describe('TLS: https API and mqtts embedded broker', () => {
  let certificates: TestCertificates;
  let controlPlane: RunningControlPlane;
  let ca: Buffer;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    certificates = createTestCertificates();
    cleanups.push(certificates.cleanup);
    ca = readFileSync(certificates.caFile);
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('embedded', {
      DATABASE_URL: database.url,
      TLS_CERT_FILE: certificates.certFile,
      TLS_KEY_FILE: certificates.keyFile,
      TLS_CA_FILE: certificates.caFile,
    });
    cleanups.push(test.cleanup);
    controlPlane = await startControlPlane(test.config, () => undefined);
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  it('serves the API over https only', async () => {
    expect(controlPlane.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsJson<{ status: string }>(`${controlPlane.httpUrl}/health`, ca);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    await expect(
      httpsJson(`${controlPlane.httpUrl}/health`, readFileSync(certificates.untrustedCaFile)),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    await expect(fetch(controlPlane.httpUrl.replace('https:', 'http:') + '/health')).rejects.toThrow();
  });

  it('enrols over https, handing out the mqtts URL and the CA to pin, and the device connects with it', async () => {
    const token = await httpsJson<{ token: string }>(`${controlPlane.httpUrl}/enrolment-tokens`, ca, {
      method: 'POST',
      body: { name: 'tls' },
      token: testAdminToken,
    });
    expect(token.status).toBe(201);
    const enrolment = await httpsJson<Enrolment>(`${controlPlane.httpUrl}/enrol`, ca, {
      method: 'POST',
      body: { token: token.body.token, name: 'tls device' },
    });
    expect(enrolment.status).toBe(201);
    expect(enrolment.body.mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(enrolment.body.caCertificate).toBe(ca.toString('utf8'));

    const pinned = Buffer.from(enrolment.body.caCertificate ?? '', 'utf8');
    const client = await connectAsDevice(enrolment.body, { ca: pinned });
    expect(client.connected).toBe(true);
    await client.endAsync();

    // A client that does not trust the CA refuses the broker; plain MQTT is not served: the TLS listener
    // closes a connection whose first bytes are an MQTT CONNECT instead of a TLS ClientHello.
    await expect(connectAsDevice(enrolment.body)).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
    const { port } = new URL(enrolment.body.mqttUrl);
    const plain = connect(Number(port), '127.0.0.1');
    const answered: Buffer[] = [];
    plain.on('data', (chunk: Buffer) => answered.push(chunk));
    plain.on('error', () => undefined);
    plain.write(
      Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00]),
    );
    await once(plain, 'close');
    // Whatever came back is a TLS alert (content type 21), never an MQTT CONNACK (0x20).
    expect(answered.every((chunk) => chunk[0] !== 0x20)).toBe(true);
  });

  it('keeps the control plane itself connected to its mqtts broker', async () => {
    const health = await httpsJson<{ info: Record<string, { status: string }> }>(
      `${controlPlane.httpUrl}/health`,
      ca,
    );
    expect(health.body.info.mqtt?.status).toBe('up');
  });
});
