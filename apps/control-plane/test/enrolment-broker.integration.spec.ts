import {
  buildPublication,
  deviceSubscriptions,
  PROTOCOL_VERSION,
  TopicScheme,
  type BirthMessage,
} from '@emofleet/protocol';
import { connectAsync, ErrorWithSubackPacket, type MqttClient } from 'mqtt';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { type ApiErrorResponseBody, apiRequest } from './support/api-request';
import { connectAsDevice, type Enrolment, enrolDevice } from './support/enrolment';
import { eventually } from './support/eventually';
import { createTestDatabase, testConfig, CONTROL_PLANE_START_TIMEOUT_MS } from './support/test-environment';

interface DeviceView {
  id: string;
  name: string;
  tags: Record<string, string>;
  online: boolean;
  capabilities: Record<string, unknown> | null;
  currentModel: { modelId: string; version: string } | null;
  decommissionedAt: string | null;
}

const birthOf = (deviceId: string, bdSeq: number): BirthMessage => ({
  v: PROTOCOL_VERSION,
  deviceId,
  bdSeq,
  timestamp: Date.now(),
  agentVersion: '0.1.0',
  capabilities: {
    arch: 'arm64',
    os: { platform: 'linux', release: '4.9.253-tegra' },
    cpuCores: 4,
    memoryBytes: 4 * 1024 ** 3,
    detectorBackends: ['tensorrt', 'opencv-dnn'],
    simulated: true,
  },
  runningModel: { modelId: 'fer-tiny', version: '3' },
});

/** The QoS the broker granted each filter (128 = refused); mqtt.js rejects a SUBACK with any refusal. */
async function grantedQos(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos: 1 })).map((grant) => grant.qos);
  } catch (error) {
    if (error instanceof ErrorWithSubackPacket) {
      return error.packet.granted.map((grant) =>
        typeof grant === 'number' ? grant : (grant as { qos: number }).qos,
      );
    }
    throw error;
  }
}

/** Resolves when `client`'s connection closes (or after `ms`, with false). */
const closedWithin = (client: MqttClient, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

describe('enrolment and the embedded broker (aedes + PostgreSQL)', () => {
  let controlPlane: RunningControlPlane;
  let topics: TopicScheme;
  const clients: MqttClient[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  const call = <T>(method: string, path: string, options?: { token?: string | null; body?: unknown }) =>
    apiRequest<T>(controlPlane.httpUrl, method, path, options);
  const track = (client: MqttClient): MqttClient => {
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const test = testConfig('embedded', { DATABASE_URL: database.url });
    cleanups.push(test.cleanup);
    topics = new TopicScheme(test.topicPrefix);
    controlPlane = await startControlPlane(test.config, () => undefined);
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const client of clients) await client.endAsync(true);
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  describe('enrolment tokens', () => {
    it('enrols a device once with a one-time token and hands it everything it needs to connect and pin', async () => {
      const created = await call<{ id: string; token: string; maxUses: number; state: string }>(
        'POST',
        '/enrolment-tokens',
        { body: { name: 'lab batch', tags: { site: 'lab' } } },
      );
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ maxUses: 1, state: 'active' });
      expect(created.body.token).toMatch(/^emfe_/);

      const enrolled = await call<Enrolment>('POST', '/enrol', {
        token: null,
        body: { token: created.body.token, name: 'Jetson Nano 1', capabilities: { arch: 'arm64' } },
      });
      expect(enrolled.status).toBe(201);
      expect(enrolled.body).toMatchObject({
        name: 'Jetson Nano 1',
        tags: { site: 'lab' },
        mqttUrl: controlPlane.infrastructure.mqttUrl,
        topicPrefix: topics.prefix,
        caCertificate: null,
      });
      expect(enrolled.body.deviceId).toMatch(/^jetson-nano-1-[0-9a-f]{8}$/);
      expect(enrolled.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(enrolled.body.signingPublicKey).toContain('-----BEGIN PUBLIC KEY-----');

      const device = await call<DeviceView>('GET', `/devices/${enrolled.body.deviceId}`);
      expect(device.body).toMatchObject({ name: 'Jetson Nano 1', tags: { site: 'lab' }, online: false });
      expect(device.body.capabilities).toEqual({ arch: 'arm64' });

      const replay = await call<ApiErrorResponseBody>('POST', '/enrol', {
        token: null,
        body: { token: created.body.token, name: 'Jetson Nano 2' },
      });
      expect(replay.status).toBe(410);
      expect(replay.body.error.message).toBe(
        `enrolment token ${created.body.id} has been used 1 of 1 times; ask an operator for a new one`,
      );
      const listed = await call<{ items: Array<{ id: string; state: string; uses: number }> }>(
        'GET',
        '/enrolment-tokens',
      );
      expect(listed.body.items.find((token) => token.id === created.body.id)).toMatchObject({
        state: 'used-up',
        uses: 1,
      });
      expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    });

    it('refuses unknown, revoked and expired tokens with clear errors', async () => {
      const unknown = await call<ApiErrorResponseBody>('POST', '/enrol', {
        token: null,
        body: { token: 'emfe_nope', name: 'x' },
      });
      expect(unknown.status).toBe(401);
      expect(unknown.body.error.message).toBe('unknown enrolment token');

      const revoked = await call<{ id: string; token: string }>('POST', '/enrolment-tokens', {
        body: { name: 'revoked', maxUses: null },
      });
      expect((await call('DELETE', `/enrolment-tokens/${revoked.body.id}`)).status).toBe(200);
      const afterRevoke = await call<ApiErrorResponseBody>('POST', '/enrol', {
        token: null,
        body: { token: revoked.body.token, name: 'x' },
      });
      expect(afterRevoke.status).toBe(410);
      expect(afterRevoke.body.error.message).toMatch(/was revoked at/);

      const expiring = await call<{ token: string }>('POST', '/enrolment-tokens', {
        body: { name: 'short', expiresAt: new Date(Date.now() + 1000).toISOString() },
      });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const afterExpiry = await call<ApiErrorResponseBody>('POST', '/enrol', {
        token: null,
        body: { token: expiring.body.token, name: 'x' },
      });
      expect(afterExpiry.status).toBe(410);
      expect(afterExpiry.body.error.message).toMatch(/expired at/);
    });

    it('lets a multi-use token enrol several devices, and only operators and admins manage tokens', async () => {
      const multi = await call<{ token: string }>('POST', '/enrolment-tokens', {
        body: { name: 'fleet', maxUses: null },
      });
      for (const name of ['cam-a', 'cam-b']) {
        expect(
          (await call('POST', '/enrol', { token: null, body: { token: multi.body.token, name } })).status,
        ).toBe(201);
      }
      const viewer = await call<{ token: string }>('POST', '/tokens', {
        body: { name: 'v', role: 'viewer' },
      });
      expect((await call('GET', '/enrolment-tokens', { token: viewer.body.token })).status).toBe(403);
      const operator = await call<{ token: string }>('POST', '/tokens', {
        body: { name: 'o', role: 'operator' },
      });
      expect(
        (
          await call('POST', '/enrolment-tokens', {
            token: operator.body.token,
            body: { name: 'by operator' },
          })
        ).status,
      ).toBe(201);
    });
  });

  describe('device authentication and ACLs', () => {
    let deviceA: Enrolment;
    let deviceB: Enrolment;

    beforeAll(async () => {
      deviceA = await enrolDevice(controlPlane.httpUrl, 'device A', { tags: { site: 'lab' } });
      deviceB = await enrolDevice(controlPlane.httpUrl, 'device B', { tags: { site: 'field' } });
    });

    it('accepts a device only with its own id, client id and secret', async () => {
      const connected = track(await connectAsDevice(deviceA));
      expect(connected.connected).toBe(true);
      await expect(connectAsDevice(deviceA, { password: `${deviceA.secret}x` })).rejects.toThrow(
        /Bad username or password/,
      );
      await expect(connectAsDevice(deviceA, { password: deviceB.secret })).rejects.toThrow(
        /Bad username or password/,
      );
      await expect(connectAsDevice(deviceA, { clientId: deviceB.deviceId })).rejects.toThrow(
        /Identifier rejected/,
      );
      await expect(
        connectAsync(deviceA.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 }),
      ).rejects.toThrow(/Not authorized/);
      await connected.endAsync();
    });

    it('records a device that publishes its own birth', async () => {
      const client = track(await connectAsDevice(deviceA));
      const birth = buildPublication(topics, 'birth', birthOf(deviceA.deviceId, 1), 4);
      await client.publishAsync(birth.topic, birth.payload, { qos: 1, retain: true });
      const device = await eventually(
        () => call<DeviceView>('GET', `/devices/${deviceA.deviceId}`),
        (response) => response.body.currentModel !== null,
        { what: 'birth recorded' },
      );
      expect(device.body.capabilities).toMatchObject({ detectorBackends: ['tensorrt', 'opencv-dnn'] });
      expect(device.body.currentModel).toEqual({ modelId: 'fer-tiny', version: '3' });
      await client.endAsync();
    });

    it.each<['A' | 'B', 'A' | 'B']>([
      ['A', 'B'],
      ['B', 'A'],
    ])("device %s can neither read nor write device %s's topics", async (self, other) => {
      const byName = { A: deviceA, B: deviceB };
      const [me, them] = [byName[self], byName[other]];
      const client = track(await connectAsDevice(me));

      // Reading: every one of the other device's subscriptions is refused (granted QoS 128); our own are granted.
      const theirs = deviceSubscriptions(topics, them.deviceId).map((subscription) => subscription.topic);
      expect(await grantedQos(client, theirs)).toEqual(theirs.map(() => 128));
      expect(await grantedQos(client, [`${topics.prefix}/#`, `${topics.prefix}/devices/+/desired`])).toEqual([
        128, 128,
      ]);
      const ours = deviceSubscriptions(topics, me.deviceId).map((subscription) => subscription.topic);
      expect(await grantedQos(client, ours)).toEqual(ours.map(() => 1));

      // ... so a message the control plane sends the other device never reaches us, while ours does.
      const received: string[] = [];
      client.on('message', (topic) => received.push(topic));
      const internal = track(
        await connectAsync(controlPlane.infrastructure.mqttUrl, {
          ...controlPlane.infrastructure.mqttAccount,
          clientId: `test-internal-${self}`,
          protocolVersion: 4,
          reconnectPeriod: 0,
        }),
      );
      const theirDesired = topics.topicFor({ kind: 'desired', deviceId: them.deviceId });
      const ourDesired = topics.topicFor({ kind: 'desired', deviceId: me.deviceId });
      await internal.publishAsync(theirDesired, '{}', { qos: 1 });
      await internal.publishAsync(ourDesired, '{}', { qos: 1 });
      await eventually(
        () => Promise.resolve(received),
        (topicsSeen) => topicsSeen.includes(ourDesired),
        { what: 'own desired delivered' },
      );
      expect(received).not.toContain(theirDesired);

      // Writing: a birth published under the other device's id is refused (the broker drops the connection)
      // and the control plane never records it.
      const before = await call<DeviceView>('GET', `/devices/${them.deviceId}`);
      const forged = buildPublication(
        topics,
        'birth',
        { ...birthOf(them.deviceId, 99), runningModel: null },
        4,
      );
      const closed = closedWithin(client, 3000);
      client.publish(forged.topic, forged.payload, { qos: 1, retain: true });
      expect(await closed).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await call<DeviceView>('GET', `/devices/${them.deviceId}`);
      expect(after.body).toEqual(before.body);
      await internal.endAsync();
    });

    it('refuses device-to-cloud impersonation of the control plane: a device cannot publish desired state', async () => {
      const client = track(await connectAsDevice(deviceB));
      const closed = closedWithin(client, 3000);
      client.publish(topics.topicFor({ kind: 'desired', deviceId: deviceB.deviceId }), '{}', { qos: 1 });
      expect(await closed).toBe(true);
    });

    it('decommissioning revokes the credentials, ends the session and clears the retained topics', async () => {
      const client = track(await connectAsDevice(deviceA));
      const closed = closedWithin(client, 5000);
      const response = await call<DeviceView>('DELETE', `/devices/${deviceA.deviceId}`);
      expect(response.status).toBe(200);
      expect(response.body.decommissionedAt).not.toBeNull();
      expect(await closed).toBe(true);
      await expect(connectAsDevice(deviceA)).rejects.toThrow(/Not authorized|Bad username or password/);

      // A fresh subscriber sees no retained birth for the device any more.
      const internal = track(
        await connectAsync(controlPlane.infrastructure.mqttUrl, {
          ...controlPlane.infrastructure.mqttAccount,
          clientId: 'test-internal-retained',
          protocolVersion: 4,
          reconnectPeriod: 0,
        }),
      );
      const retained: string[] = [];
      internal.on('message', (topic, payload) => payload.length > 0 && retained.push(topic));
      await internal.subscribeAsync(topics.filterFor('birth', deviceA.deviceId), { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(retained).toEqual([]);

      const list = await call<{ items: DeviceView[] }>('GET', '/devices?limit=500');
      expect(list.body.items.map((device) => device.id)).not.toContain(deviceA.deviceId);
      expect((await call('DELETE', `/devices/${deviceA.deviceId}`)).status).toBe(404);
      const audit = await call<{ items: Array<{ route: string; targetId: string; status: number }> }>(
        'GET',
        `/audit?targetId=${deviceA.deviceId}`,
      );
      // Newest first: the refused second decommission, the decommission, the enrolment.
      expect(audit.body.items.map((entry) => [entry.route, entry.status])).toEqual([
        ['/devices/:id', 404],
        ['/devices/:id', 200],
        ['/enrol', 201],
      ]);
      await internal.endAsync();
    });
  });
});
