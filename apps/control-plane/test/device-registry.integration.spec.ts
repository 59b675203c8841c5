import {
  type BirthMessage,
  buildPublication,
  PROTOCOL_VERSION,
  type TelemetryMessage,
  TopicScheme,
} from '@emofleet/protocol';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { type ApiErrorResponseBody, apiRequest } from './support/api-request';
import { type Enrolment, enrolDevice } from './support/enrolment';
import { eventually } from './support/eventually';
import { ProtocolDevice } from './support/protocol-device';
import { createTestDatabase, testConfig, CONTROL_PLANE_START_TIMEOUT_MS } from './support/test-environment';

interface DeviceView {
  id: string;
  name: string;
  tags: Record<string, string>;
  online: boolean;
  currentModel: { modelId: string; version: string } | null;
  lastTelemetry: Record<string, unknown> | null;
  lastTelemetryAt: string | null;
}

interface DeviceList {
  items: DeviceView[];
  nextCursor: string | null;
}

interface FleetMember {
  enrolment: Enrolment;
  device: ProtocolDevice;
}

describe('device registry: tags, filters, updates, telemetry (embedded broker + PostgreSQL)', () => {
  let controlPlane: RunningControlPlane;
  let topics: TopicScheme;
  const fleet: Record<'jetson' | 'lab' | 'field', FleetMember | undefined> = {
    jetson: undefined,
    lab: undefined,
    field: undefined,
  };
  const cleanups: Array<() => Promise<void> | void> = [];
  const devices: ProtocolDevice[] = [];
  const call = <T>(method: string, path: string, options?: { token?: string | null; body?: unknown }) =>
    apiRequest<T>(controlPlane.httpUrl, method, path, options);
  const member = (name: keyof typeof fleet): FleetMember => {
    const found = fleet[name];
    if (!found) throw new Error(`${name} was not set up`);
    return found;
  };
  const ids = async (query: string): Promise<string[]> => {
    const response = await call<DeviceList>('GET', `/devices?limit=500&${query}`);
    expect(response.status).toBe(200);
    return response.body.items.map((device) => device.id).sort();
  };

  const birth = (deviceId: string, backends: string[], arch: string, model: BirthMessage['runningModel']) =>
    buildPublication<'birth'>(
      topics,
      'birth',
      {
        v: PROTOCOL_VERSION,
        deviceId,
        bdSeq: 1,
        timestamp: Date.now(),
        agentVersion: '0.1.0',
        capabilities: {
          arch,
          os: { platform: 'linux', release: '5.10' },
          cpuCores: 6,
          memoryBytes: 8 * 1024 ** 3,
          detectorBackends: backends,
          simulated: true,
          ...(backends.includes('tensorrt') ? { tensorrtVersion: '8.5.2', jetpackVersion: '5.1' } : {}),
        },
        runningModel: model,
      },
      4,
    );

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('embedded', { DATABASE_URL: database.url });
    cleanups.push(test.cleanup);
    topics = new TopicScheme(test.topicPrefix);
    controlPlane = await startControlPlane(test.config, () => undefined);

    const setUp = async (
      name: keyof typeof fleet,
      tags: Record<string, string>,
      backends: string[],
      arch: string,
      model: BirthMessage['runningModel'],
    ) => {
      const enrolment = await enrolDevice(controlPlane.httpUrl, name, { tags });
      const device = await ProtocolDevice.connect(
        enrolment.mqttUrl,
        test.topicPrefix,
        enrolment.deviceId,
        enrolment.secret,
      );
      devices.push(device);
      const publication = birth(enrolment.deviceId, backends, arch, model);
      await device.raw(publication.topic, publication.payload);
      await device.state('online', 1);
      fleet[name] = { enrolment, device };
    };
    await setUp('jetson', { site: 'lab', camera: 'csi' }, ['tensorrt', 'opencv-dnn'], 'arm64', {
      modelId: 'fer',
      version: '3',
    });
    await setUp('lab', { site: 'lab', camera: 'usb' }, ['onnxruntime-cpu'], 'x64', {
      modelId: 'fer',
      version: '2',
    });
    await setUp('field', { site: 'field' }, ['onnxruntime-cpu'], 'x64', null);
    await member('field').device.state('offline', 1);
    await eventually(
      () => ids('online=true'),
      (online) => online.length === 2,
      { what: 'two devices online' },
    );
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const device of devices) await device.close();
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  it('filters by tag selector', async () => {
    const [jetson, lab, field] = [member('jetson'), member('lab'), member('field')].map(
      (m) => m.enrolment.deviceId,
    );
    expect(await ids('tags=site=lab')).toEqual([jetson, lab].sort());
    expect(await ids(`tags=${encodeURIComponent('site=lab,camera!=csi')}`)).toEqual([lab]);
    expect(await ids(`tags=${encodeURIComponent('camera!=csi')}`)).toEqual([lab, field].sort());
    expect(await ids('tags=camera')).toEqual([jetson, lab].sort());
    expect(await ids(`tags=${encodeURIComponent('!camera')}`)).toEqual([field]);
    const bad = await call<ApiErrorResponseBody>(
      'GET',
      `/devices?tags=${encodeURIComponent('site=lab,a b')}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('tags: requirement 2 ("a b"): "a b" is not a tag key');
  });

  it('filters by presence, running model and capabilities, combined', async () => {
    const [jetson, lab, field] = [member('jetson'), member('lab'), member('field')].map(
      (m) => m.enrolment.deviceId,
    );
    expect(await ids('online=false')).toEqual([field]);
    expect(await ids('model=fer')).toEqual([jetson, lab].sort());
    expect(await ids(`model=${encodeURIComponent('fer@2')}`)).toEqual([lab]);
    expect(await ids('capability=backend=tensorrt')).toEqual([jetson]);
    expect(await ids(`capability=${encodeURIComponent('backend=onnxruntime-cpu,arch=x64')}`)).toEqual(
      [lab, field].sort(),
    );
    expect(await ids('capability=os.platform=linux&online=true&tags=site=lab')).toEqual([jetson, lab].sort());
    expect(await ids('capability=tensorrtVersion=8.5.2')).toEqual([jetson]);
    const bad = await call<ApiErrorResponseBody>('GET', '/devices?capability=tensorrt');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('is not key=value');
  });

  it('pages through a filtered list', async () => {
    const first = await call<DeviceList>('GET', '/devices?tags=site=lab&limit=1');
    expect(first.body.items).toHaveLength(1);
    const second = await call<DeviceList>(
      `GET`,
      `/devices?tags=site=lab&limit=1&cursor=${first.body.nextCursor ?? ''}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect(second.body.items[0]?.id).not.toBe(first.body.items[0]?.id);
  });

  it('renames and merge-patches tags (operator), refusing viewers and bad tags', async () => {
    const id = member('field').enrolment.deviceId;
    const patched = await call<DeviceView>('PATCH', `/devices/${id}`, {
      body: { name: 'field unit 7', tags: { camera: 'csi', site: null, zone: 'eu-west' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'field unit 7', tags: { camera: 'csi', zone: 'eu-west' } });

    const viewer = await call<{ token: string }>('POST', '/tokens', { body: { name: 'v', role: 'viewer' } });
    expect(
      (await call('PATCH', `/devices/${id}`, { token: viewer.body.token, body: { name: 'x' } })).status,
    ).toBe(403);
    const operator = await call<{ token: string }>('POST', '/tokens', {
      body: { name: 'o', role: 'operator' },
    });
    expect(
      (await call('PATCH', `/devices/${id}`, { token: operator.body.token, body: { tags: { rack: '4' } } }))
        .status,
    ).toBe(200);

    const bad = await call<ApiErrorResponseBody>('PATCH', `/devices/${id}`, {
      body: { tags: { 'bad key': 'x' } },
    });
    expect(bad.status).toBe(400);
    expect((await call('PATCH', `/devices/${id}`, { body: {} })).status).toBe(400);
    const tooMany = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v']));
    const overflow = await call<ApiErrorResponseBody>('PATCH', `/devices/${id}`, { body: { tags: tooMany } });
    expect(overflow.status).toBe(400);
    expect(overflow.body.error.message).toContain('more than 32 tags');
    expect((await call<DeviceView>('GET', `/devices/${id}`)).body.tags).toEqual({
      camera: 'csi',
      zone: 'eu-west',
      rack: '4',
    });
    expect((await call('PATCH', '/devices/no-such-device', { body: { name: 'x' } })).status).toBe(404);
  });

  it("shows each device's newest telemetry (stored by the telemetry listener)", async () => {
    const { enrolment, device } = member('jetson');
    const telemetry: TelemetryMessage = {
      v: PROTOCOL_VERSION,
      deviceId: enrolment.deviceId,
      windowStart: Date.now() - 5000,
      windowMs: 5000,
      framesProcessed: 150,
      framesDropped: 2,
      fps: 29.6,
      latencyMs: { p50: 11, p95: 15, p99: 19 },
      cpuPercent: 80,
      rssBytes: 200 * 1024 ** 2,
      temperaturesC: { 'CPU-therm': 51.5 },
      gpu: { loadPercent: 63 },
      modelId: 'fer',
      accuracy: null,
      spool: { depth: 0, droppedTotal: 0 },
    };
    const publication = buildPublication(topics, 'telemetry', telemetry, 4);
    await device.raw(publication.topic, publication.payload);
    const seen = await eventually(
      () => call<DeviceView>('GET', `/devices/${enrolment.deviceId}`),
      (response) => response.body.lastTelemetry !== null,
      { what: 'telemetry recorded' },
    );
    expect(seen.body.lastTelemetry).toMatchObject({
      fps: 29.6,
      framesProcessed: 150,
      gpu: { loadPercent: 63 },
    });
    expect(seen.body.lastTelemetryAt).not.toBeNull();
  });
});
