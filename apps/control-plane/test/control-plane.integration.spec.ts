import { type AppConfig } from '../src/config/app-config';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { eventually } from './support/eventually';
import { enrolDevice } from './support/enrolment';
import { ProtocolDevice } from './support/protocol-device';
import {
  authHeaders,
  createTestDatabase,
  type TestMode,
  testConfig,
  uniqueSuffix,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from './support/test-environment';

interface DeviceView {
  id: string;
  online: boolean;
  sessionSeq: number | null;
  simulated: boolean;
  capabilities: Record<string, unknown> | null;
}

describe.each<TestMode>(['external-services', 'embedded'])('control plane with %s', (mode) => {
  let controlPlane: RunningControlPlane;
  let config: AppConfig;
  let topicPrefix: string;
  const cleanups: Array<() => Promise<void> | void> = [];
  const devices: ProtocolDevice[] = [];

  beforeAll(async () => {
    const overrides: Record<string, string> = {};
    if (mode === 'external-services') {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      overrides.DATABASE_URL = database.url;
    }
    const test = testConfig(mode, overrides);
    cleanups.push(test.cleanup);
    config = test.config;
    topicPrefix = test.topicPrefix;
    controlPlane = await startControlPlane(config, () => undefined);
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const device of devices) await device.close();
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${controlPlane.httpUrl}${path}`, { headers: authHeaders() });
    return { status: response.status, body: (await response.json()) as T };
  };

  /** Enrols a device through the API and connects it with its credentials (the embedded broker needs them). */
  const connectEnrolledDevice = async (name: string): Promise<ProtocolDevice> => {
    const enrolment = await enrolDevice(controlPlane.httpUrl, `${name}-${uniqueSuffix()}`);
    const device = await ProtocolDevice.connect(
      enrolment.mqttUrl,
      topicPrefix,
      enrolment.deviceId,
      enrolment.secret,
    );
    devices.push(device);
    return device;
  };

  it('reports Redis, MQTT and the database up on GET /health', async () => {
    const { status, body } = await get<{ status: string; info: Record<string, { status: string }> }>(
      '/health',
    );
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info.redis?.status).toBe('up');
    expect(body.info.mqtt?.status).toBe('up');
    expect(body.info.database?.status).toBe('up');
  });

  it('uses the services the mode asks for', () => {
    const { infrastructure } = controlPlane;
    expect(infrastructure.database.kind).toBe(mode === 'embedded' ? 'pglite' : 'postgres');
    expect(infrastructure.embeddedBroker === undefined).toBe(mode === 'external-services');
  });

  it('serves the OpenAPI document with the device endpoints', async () => {
    const { status, body } = await get<{ paths: Record<string, unknown> }>('/docs-json');
    expect(status).toBe(200);
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/devices', '/devices/{id}', '/health']));
  });

  it('tracks a device online from its birth and offline from its will, ignoring a stale will', async () => {
    const device = await connectEnrolledDevice('dev');
    await device.birth(7);
    await device.state('online', 7);
    const online = await eventually(
      () => get<DeviceView>(`/devices/${device.deviceId}`),
      (response) => response.status === 200 && response.body.online,
      { what: 'device online' },
    );
    expect(online.body).toMatchObject({ online: true, sessionSeq: 7, simulated: true });

    // The will of an older session arrives late: the device stays online.
    await device.state('offline', 6);
    await device.state('online', 7);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await get<DeviceView>(`/devices/${device.deviceId}`)).body.online).toBe(true);

    await device.state('offline', 7);
    await eventually(
      () => get<DeviceView>(`/devices/${device.deviceId}`),
      (response) => !response.body.online,
      { what: 'device offline' },
    );
  });

  it('counts malformed device messages and keeps serving', async () => {
    const device = await connectEnrolledDevice('bad');
    await device.raw(`${topicPrefix}/devices/${device.deviceId}/birth`, '{"v":1,"deviceId":');
    await device.raw(`${topicPrefix}/devices/${device.deviceId}/state`, '{"v":99}');
    const { ProtocolRejections } = await import('../src/messaging/protocol-rejections');
    const rejections = controlPlane.app.get(ProtocolRejections);
    await eventually(
      () => Promise.resolve(rejections.snapshot()),
      (counts) =>
        (counts.byKindAndReason['birth/invalid-json'] ?? 0) >= 1 &&
        (counts.byKindAndReason['state/unsupported-version'] ?? 0) >= 1,
      { what: 'rejections counted' },
    );
    expect((await get('/health')).status).toBe(200);
    // The malformed birth was not recorded: the enrolled device still has no capabilities.
    expect((await get<DeviceView>(`/devices/${device.deviceId}`)).body).toMatchObject({
      capabilities: null,
      online: false,
    });
  });

  it('lists devices with keyset pagination and rejects a bad query with the JSON error shape', async () => {
    const first = await get<{ items: DeviceView[]; nextCursor: string | null }>('/devices?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    const bad = await get<{ error: { status: number; code: string; message: string } }>(
      '/devices?limit=zero',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(bad.body.error.message).toMatch(/limit/);
    const missing = await get<{ error: { code: string; message: string } }>('/devices/no-such-device');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('no-such-device');
  });
});
