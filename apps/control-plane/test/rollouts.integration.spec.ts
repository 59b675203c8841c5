/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DeviceAgent,
  enrolDevice as enrolAgent,
  type EnrolmentRecord,
  loadAgentConfig,
  probeDeviceCapabilities,
  runAgent,
  type RunningAgent,
  type RunningSimulation,
  silentLogger,
  startDeviceAgent,
  startSimulation,
  syntheticModelLoader,
  writeEnrolment,
} from '@emofleet/agent';
import { buildPublication, PROTOCOL_VERSION, TopicScheme } from '@emofleet/protocol';
import { connectAsync } from 'mqtt';
import { type AppConfig } from '../src/config/app-config';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { ephemeralPort } from '../src/infra/free-port';
import { verifyDeliverySignature } from '../src/webhooks/webhook-signature';
import { apiRequest } from './support/api-request';
import { eventually } from './support/eventually';
import { removeScheduledQueues } from './support/queue-cleanup';
import { uploadReadyVersion } from './support/small-model';
import { authHeaders, createTestDatabase, testConfig, uniqueSuffix } from './support/test-environment';

interface TargetView {
  deviceId: string;
  state: string;
  phase: number | null;
  attempts: number;
  jobId: string | null;
  model: { modelId: string; version: string };
  previousModel: { modelId: string; version: string } | null;
  measuredFps: number | null;
  failure: { type: string; reason: string } | null;
  rollbackJobId: string | null;
}
interface RolloutView {
  id: string;
  state: string;
  stateReason: string | null;
  currentPhase: number;
  devices: Record<string, number>;
  phaseDetails: Array<{ phase: number; state: string }>;
  targets: TargetView[];
}
interface EventView {
  id: string;
  rolloutId: string;
  type: 'rollout' | 'phase' | 'device';
  phase: number | null;
  deviceId: string | null;
  from: string | null;
  to: string;
  reason: string | null;
}
interface JobView {
  jobId: string;
  operation: string;
  status: string;
  rolloutId: string | null;
  modelVersionId: string | null;
  statusDetails: { step?: string; measuredFps?: number; reason?: string };
}
interface DeviceView {
  id: string;
  online: boolean;
  sessionSeq: number | null;
  currentModel: { modelId: string; version: string } | null;
  desiredModel: { modelId: string; version: string } | null;
}

const WEBHOOK_SECRET = 'rollout-webhook-secret-0123456789';
const FPS_FLOOR = 100;

/**
 * Rollouts end to end with real services (PostgreSQL, Redis, Mosquitto), the pipeline's ready model versions
 * and ten devices: two real agents (`runAgent`, synthetic detector), one agent assembled from the real agent
 * code with a slow synthetic detector (the device whose new model is too slow), and seven simulated agents
 * (`startSimulation`: real connection, reconcile and protocol code). No step is faked: devices download the
 * signed bundles, run the health checks the rollout sends, and report through the jobs protocol.
 */
describe('health-gated staged rollouts', () => {
  let controlPlane: RunningControlPlane;
  let config: AppConfig;
  let queuePrefix: string;
  const model = `fer-${uniqueSuffix()}`;
  const site = `lab-${uniqueSuffix()}`;
  let slowDevice: string;
  const simulatedRecords: EnrolmentRecord[] = [];
  let allDevices: string[] = [];
  const realAgents: RunningAgent[] = [];
  const realDevices: string[] = [];
  let lastRolloutId: string | undefined;
  let slowAgent: DeviceAgent | undefined;
  const simulations: RunningSimulation[] = [];
  let agentsDir: string;
  const cleanups: Array<() => Promise<void> | void> = [];

  const api = <T>(method: string, path: string, body?: unknown) =>
    apiRequest<T>(controlPlane.httpUrl, method, path, { body });

  const rollout = async (id: string) => (await api<RolloutView>('GET', `/rollouts/${id}`)).body;
  const rolloutBecomes = (
    id: string,
    accept: (view: RolloutView) => boolean,
    what: string,
    timeoutMs = 90_000,
  ) => eventually(() => rollout(id), accept, { timeoutMs, intervalMs: 250, what });
  const eventsOf = async (id: string) =>
    (await api<{ items: EventView[] }>('GET', `/rollouts/events?rollout=${id}&limit=1000`)).body.items;
  const jobsOf = async (deviceId: string) =>
    (await api<{ items: JobView[] }>('GET', `/devices/${deviceId}/jobs?limit=100`)).body.items;
  const device = async (deviceId: string) => (await api<DeviceView>('GET', `/devices/${deviceId}`)).body;

  function simulate(records: EnrolmentRecord[]): Promise<RunningSimulation> {
    const first = records[0];
    if (first === undefined) throw new Error('no simulated device');
    return startSimulation({
      count: records.length,
      idPrefix: 'unused',
      secret: 'unused',
      devices: records.map((record) => ({ deviceId: record.deviceId, secret: record.secret })),
      mqttUrl: first.mqttUrl,
      topicPrefix: first.topicPrefix,
      mqttVersion: 5,
      dataDir: join(agentsDir, 'simulated'),
      manifestPublicKey: first.signingPublicKey,
      fps: 2,
      telemetryIntervalMs: 1000,
      agentVersion: '0.0.0-test',
      logger: silentLogger,
    });
  }

  beforeAll(async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    // A fixed port: desired states carry artifact URLs, which must stay valid across the restart test.
    const port = await ephemeralPort();
    const setup = testConfig('external-services', { DATABASE_URL: database.url, PORT: String(port) });
    cleanups.push(setup.cleanup);
    config = setup.config;
    queuePrefix = config.queuePrefix;
    controlPlane = await startControlPlane(config, () => undefined);

    await uploadReadyVersion(controlPlane.httpUrl, model, 1);
    await uploadReadyVersion(controlPlane.httpUrl, model, 2);

    const token = await api<{ token: string }>('POST', '/enrolment-tokens', {
      name: 'rollout fleet',
      maxUses: 10,
      tags: { site },
    });
    expect(token.status).toBe(201);
    const enrol = (name: string) =>
      enrolAgent({ server: controlPlane.httpUrl, token: token.body.token, name });
    agentsDir = mkdtempSync(join(tmpdir(), 'emofleet-rollout-agents-'));
    cleanups.push(() => rmSync(agentsDir, { recursive: true, force: true }));

    // Two real agents, as `emofleet-agent run --detector synthetic` runs them.
    for (const name of ['real-1', 'real-2']) {
      const record = await enrol(name);
      const dataDir = join(agentsDir, name);
      writeEnrolment(dataDir, record);
      const agentConfig = await loadAgentConfig(
        { dataDir, detector: 'synthetic', logLevel: 'warn', telemetryIntervalMs: '1000' },
        {},
      );
      realAgents.push(await runAgent(agentConfig, '0.0.0-test', silentLogger));
      realDevices.push(record.deviceId);
    }

    // The real agent code with a detector that needs 40 ms a frame: about 25 FPS, under the floor.
    const slow = await enrol('slow');
    slowDevice = slow.deviceId;
    const capabilities = await probeDeviceCapabilities({ detectorBackends: ['synthetic'], simulated: false });
    slowAgent = await startDeviceAgent({
      agentVersion: '0.0.0-test',
      deviceId: slow.deviceId,
      deviceSecret: slow.secret,
      mqttUrl: slow.mqttUrl,
      topicPrefix: slow.topicPrefix,
      mqttVersion: 5,
      keepaliveSeconds: 30,
      reconnect: { initialDelayMs: 500, maxDelayMs: 5000 },
      dataDir: join(agentsDir, 'slow'),
      manifestPublicKey: slow.signingPublicKey,
      caCertificate: null,
      capabilities,
      loader: syntheticModelLoader({ latencyMs: 40 }),
      source: undefined,
      frameWidth: 32,
      frameHeight: 24,
      tracker: { minScore: 0.5, minDurationMs: 500 },
      spool: { maxBytes: 1024 * 1024, fsync: { mode: 'interval', intervalMs: 1000 } },
      telemetryIntervalMs: 1000,
      thermalRoot: null,
      tegrastats: false,
      logger: silentLogger,
    });
    const tagged = await api('PATCH', `/devices/${slow.deviceId}`, { tags: { speed: 'slow' } });
    expect(tagged.status).toBe(200);

    // Seven simulated agents with their own enrolled identities.
    for (let n = 1; n <= 7; n += 1) simulatedRecords.push(await enrol(`sim-${n}`));
    simulations.push(await simulate(simulatedRecords));

    await eventually(
      async () =>
        (await api<{ items: DeviceView[] }>('GET', `/devices?tags=site=${site}&online=true&limit=100`)).body
          .items,
      (items) => items.length === 10,
      { timeoutMs: 20_000, what: 'ten devices online' },
    );
    allDevices = [
      ...(await api<{ items: DeviceView[] }>('GET', `/devices?tags=site=${site}&limit=100`)).body.items.map(
        (item) => item.id,
      ),
    ];
  }, 300_000);

  afterAll(async () => {
    for (const simulation of simulations) await simulation.stop();
    await slowAgent?.stop();
    for (const agent of realAgents) await agent.stop();
    if (controlPlane) {
      await removeScheduledQueues(controlPlane, queuePrefix);
      await controlPlane.close();
    }
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('previews the plan, then goes phase by phase to 100% in that order', async () => {
    const body = {
      name: 'v1 everywhere',
      model: { name: model, version: 1 },
      selector: `site=${site}`,
      phases: [{ count: 1 }, { percent: 50 }, { percent: 100 }],
      maxConcurrentInstalls: 3,
      gates: { warmupFrames: 1, measureFrames: 10 },
    };
    const preview = await api<{
      targets: number;
      phases: Array<{ deviceIds: string[] }>;
      deferred: string[];
    }>('POST', '/rollouts/preview', body);
    expect(preview.status).toBe(200);
    expect(preview.body.targets).toBe(10);
    expect(preview.body.phases.map((phase) => phase.deviceIds.length)).toEqual([1, 4, 5]);

    const created = await api<RolloutView>('POST', '/rollouts', body);
    expect(created.status).toBe(201);
    const done = await rolloutBecomes(
      created.body.id,
      (view) => view.state !== 'running',
      'v1 rollout finished',
    );
    expect(done.state).toBe('completed');
    expect(done.targets.map((target) => target.state)).toEqual(Array(10).fill('healthy'));
    expect(done.phaseDetails.map((phase) => phase.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // The engine started exactly the devices the preview planned, phase by phase.
    for (const [index, phase] of preview.body.phases.entries()) {
      expect(
        done.targets
          .filter((target) => target.phase === index + 1)
          .map((target) => target.deviceId)
          .sort(),
      ).toEqual([...phase.deviceIds].sort());
    }
    // No device of a phase started before the phase before it succeeded.
    const events = await eventsOf(created.body.id);
    for (const phase of [2, 3]) {
      const previousDone = events.find(
        (e) => e.type === 'phase' && e.phase === phase - 1 && e.to === 'succeeded',
      );
      const starts = events.filter((e) => e.type === 'device' && e.phase === phase && e.to === 'installing');
      expect(previousDone).toBeDefined();
      expect(starts).toHaveLength(phase === 2 ? 4 : 5);
      for (const start of starts) expect(Number(start.id)).toBeGreaterThan(Number(previousDone?.id));
    }
    for (const deviceId of allDevices) {
      await eventually(
        () => device(deviceId),
        (view) => view.currentModel?.version === '1',
        { timeoutMs: 10_000, what: `${deviceId} running version 1` },
      );
    }
    const summary = await api<{ rollouts: { byState: Array<{ state: string; rollouts: number }> } }>(
      'GET',
      '/fleet/summary',
    );
    expect(summary.body.rollouts.byState).toContainEqual({ state: 'completed', rollouts: 1 });
  }, 180_000);

  it('aborts when the canary reports FPS under the floor: canary rolled back, no other device touched', async () => {
    const received: Array<{ body: string; headers: Record<string, string | string[] | undefined> }> = [];
    const receiver: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const webhook = await api('POST', '/webhooks', {
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      secret: WEBHOOK_SECRET,
      filter: { types: ['rollout'] },
    });
    expect(webhook.status).toBe(201);

    const created = await api<RolloutView>('POST', '/rollouts', {
      name: 'v2 with an FPS floor',
      model: { name: model, version: 2 },
      selector: `site=${site}`,
      phases: [{ count: 1 }, { percent: 50 }, { percent: 100 }],
      canaryDevices: [slowDevice],
      gates: { fps: { min: FPS_FLOOR }, warmupFrames: 1, measureFrames: 20 },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const stream = readStream(
      controlPlane.httpUrl,
      `/rollouts/events/stream?rollout=${id}`,
      (event) => event.type === 'rollout' && event.to === 'aborted',
    );

    const aborted = await rolloutBecomes(
      id,
      (view) => view.targets.some((t) => t.deviceId === slowDevice && t.state === 'rolled-back'),
      'canary rolled back',
    );
    expect(aborted.state).toBe('aborted');
    expect(aborted.stateReason).toContain('1 of 1 devices failed');
    const canary = aborted.targets.find((target) => target.deviceId === slowDevice);
    expect(canary).toMatchObject({
      phase: 1,
      failure: { type: 'health-gate' },
      previousModel: { modelId: model, version: '1' },
    });
    expect(canary?.failure?.reason).toMatch(/below the floor of 100/);
    const others = aborted.targets.filter((target) => target.deviceId !== slowDevice);
    expect(others).toHaveLength(9);
    for (const target of others) expect(target).toMatchObject({ state: 'skipped', phase: null, jobId: null });

    // Only the canary got jobs from this rollout: the install it failed, then its previous model again.
    for (const deviceId of allDevices.filter((d) => d !== slowDevice))
      expect((await jobsOf(deviceId)).filter((job) => job.rolloutId === id)).toEqual([]);
    const canaryJobs = (await jobsOf(slowDevice)).filter((job) => job.rolloutId === id);
    expect(canaryJobs.map((job) => job.status).sort()).toEqual(['FAILED', 'SUCCEEDED']);
    expect(canaryJobs.find((job) => job.status === 'FAILED')?.statusDetails).toMatchObject({
      step: 'ROLLED_BACK',
    });
    expect(canaryJobs.find((job) => job.status === 'FAILED')?.statusDetails.measuredFps).toBeLessThan(
      FPS_FLOOR,
    );
    await eventually(
      () => device(slowDevice),
      (view) => view.currentModel?.version === '1' && view.desiredModel?.version === '1',
      { timeoutMs: 10_000, what: 'the canary running and desiring version 1' },
    );

    // The transition reached the event stream, the webhook (signed) and the audit log.
    expect((await stream).map((event) => `${event.type}:${event.to}`)).toEqual(
      expect.arrayContaining(['rollout:running', 'device:installing', 'device:failed', 'rollout:aborted']),
    );
    const delivery = await eventually(
      () =>
        Promise.resolve(
          received.find((entry) => {
            const parsed = JSON.parse(entry.body) as { rolloutEvent?: EventView };
            return parsed.rolloutEvent?.rolloutId === id && parsed.rolloutEvent.to === 'aborted';
          }),
        ),
      (entry) => entry !== undefined,
      { timeoutMs: 15_000, what: 'the aborted transition delivered to the webhook' },
    );
    expect(
      verifyDeliverySignature(
        WEBHOOK_SECRET,
        String(delivery?.headers['x-emofleet-timestamp']),
        delivery?.body ?? '',
        String(delivery?.headers['x-emofleet-signature']),
      ),
    ).toBe(true);
    const audit = await api<{ items: Array<{ method: string; route: string; actor: unknown }> }>(
      'GET',
      `/audit?targetId=${id}&limit=500`,
    );
    expect(audit.body.items.map((entry) => `${entry.method} ${entry.route}`)).toEqual(
      expect.arrayContaining([
        'POST /rollouts',
        'EVENT rollout → aborted',
        'EVENT rollout device → rolled-back',
      ]),
    );
  }, 180_000);

  it('resumes after a control plane restart mid-rollout, and an offline device catches up', async () => {
    const [offline, ...online] = simulatedRecords;
    if (offline === undefined) throw new Error('no simulated device');
    // One simulated device goes offline (a clean stop: it publishes its offline state).
    const [fleet] = simulations.splice(0, 1);
    await fleet?.stop();
    simulations.push(await simulate(online));
    await eventually(
      () => device(offline.deviceId),
      (view) => !view.online,
      {
        timeoutMs: 10_000,
        what: `${offline.deviceId} offline`,
      },
    );

    const created = await api<RolloutView>('POST', '/rollouts', {
      name: 'v2 to the fast devices',
      model: { name: model, version: 2 },
      selector: `site=${site},speed!=slow`,
      phases: [{ count: 1, soakSeconds: 2 }, { percent: 50, soakSeconds: 2 }, { percent: 100 }],
      maxConcurrentInstalls: 2,
      gates: { fps: { min: FPS_FLOOR }, warmupFrames: 1, measureFrames: 10 },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    lastRolloutId = id;
    expect(created.body.targets).toHaveLength(9);

    // Mid-rollout: phase 2 has started devices. Stop the control plane there and start a new one.
    const before = await rolloutBecomes(
      id,
      (view) => view.currentPhase === 2 && view.targets.some((t) => t.phase === 2),
      'phase 2 under way',
    );
    expect(before.state).toBe('running');
    await controlPlane.close();
    controlPlane = await startControlPlane(config, () => undefined);

    const done = await rolloutBecomes(
      id,
      (view) => view.state !== 'running',
      'rollout finished after the restart',
    );
    expect(done.state).toBe('completed');
    expect(done.phaseDetails.map((phase) => phase.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const healthy = done.targets.filter((target) => target.state === 'healthy');
    expect(healthy).toHaveLength(8);
    expect(done.targets.find((target) => target.deviceId === offline.deviceId)).toMatchObject({
      state: 'pending',
      jobId: null,
    });
    // The restart neither lost nor doubled an install: each device got one install per attempt (a download the
    // restart cut off is issued again), only its last one succeeded, and the target records that one.
    for (const target of healthy) {
      const installs = (await jobsOf(target.deviceId)).filter(
        (job) => job.rolloutId === id && job.operation === 'apply-desired-state',
      );
      expect(installs).toHaveLength(target.attempts);
      expect(installs[0]).toMatchObject({ jobId: target.jobId, status: 'SUCCEEDED' });
      for (const earlier of installs.slice(1)) expect(earlier.status).not.toBe('SUCCEEDED');
    }

    // The offline device comes back and catches up.
    simulations.push(await simulate([offline]));
    const caughtUp = await rolloutBecomes(
      id,
      (view) => view.targets.find((t) => t.deviceId === offline.deviceId)?.state === 'healthy',
      `${offline.deviceId} caught up`,
    );
    expect(caughtUp.state).toBe('completed');
    await eventually(
      () => device(offline.deviceId),
      (view) => view.currentModel?.version === '2',
      { timeoutMs: 10_000, what: `${offline.deviceId} running version 2` },
    );
    // Prometheus shows the same rollout states as the fleet summary.
    const summary = await api<{ rollouts: { byState: Array<{ state: string; rollouts: number }> } }>(
      'GET',
      '/fleet/summary',
    );
    const completed = summary.body.rollouts.byState.find((entry) => entry.state === 'completed')?.rollouts;
    expect(completed).toBeGreaterThanOrEqual(1);
    const metrics = await fetch(`${controlPlane.httpUrl}/metrics`, { headers: authHeaders() });
    expect(await metrics.text()).toMatch(
      new RegExp(`^emofleet_rollouts\\{state="completed"\\} ${completed}$`, 'm'),
    );
  }, 240_000);

  it('fails a healthy device whose agent reports its own crash-loop rollback, and restores its previous model', async () => {
    const id = lastRolloutId;
    const deviceId = realDevices[1];
    if (id === undefined || deviceId === undefined) throw new Error('the restart test did not run');
    const target = (await rollout(id)).targets.find((t) => t.deviceId === deviceId);
    expect(target).toMatchObject({ state: 'healthy', model: { version: '2' } });
    const install = await api<{ desiredVersion: number }>('GET', `/device-jobs/${target?.jobId ?? ''}`);
    const current = await device(deviceId);

    // The birth an agent sends after rolling back on its own (docs/protocol.md, lastRollback), published from
    // another MQTT client so the device's own session stays up.
    const topics = new TopicScheme(config.mqtt.topicPrefix);
    const client = await connectAsync(controlPlane.infrastructure.mqttUrl, {
      clientId: `crash-${uniqueSuffix()}`,
    });
    const publication = buildPublication(
      topics,
      'birth',
      {
        v: PROTOCOL_VERSION,
        deviceId,
        bdSeq: current.sessionSeq ?? 1,
        timestamp: Date.now(),
        agentVersion: '0.0.0-test',
        capabilities: {
          arch: 'x64',
          os: { platform: 'linux', release: '6.1.0' },
          cpuCores: 2,
          memoryBytes: 1024 ** 3,
          detectorBackends: ['synthetic'],
          simulated: false,
        },
        runningModel: { modelId: model, version: '1' },
        lastRollback: {
          at: Date.now(),
          model: { modelId: model, version: '2' },
          desiredVersion: install.body.desiredVersion,
          restoredModel: { modelId: model, version: '1' },
          reason: `crash loop: the agent started 4 times with ${model} 2 before it ran 600 s in one go; rolled back to ${model} 1`,
        },
      },
      5,
    );
    await client.publishAsync(publication.topic, publication.payload, { qos: 1, retain: false });
    await client.endAsync();

    const rolledBack = await rolloutBecomes(
      id,
      (view) => view.targets.find((t) => t.deviceId === deviceId)?.state === 'rolled-back',
      `${deviceId} rolled back after its crash-loop report`,
    );
    expect(rolledBack.state).toBe('completed');
    expect(rolledBack.targets.find((t) => t.deviceId === deviceId)?.failure).toMatchObject({
      type: 'crash-loop',
      reason: expect.stringContaining('the agent rolled back on its own: crash loop') as string,
    });
    await eventually(
      () => device(deviceId),
      (view) => view.desiredModel?.version === '1' && view.currentModel?.version === '1',
      { timeoutMs: 15_000, what: `${deviceId} desiring and running version 1` },
    );
  }, 60_000);
});

/** Reads a server-sent event stream until `until` accepts an event (or 30 s pass); returns the events. */
async function readStream(
  baseUrl: string,
  path: string,
  until: (event: EventView) => boolean,
): Promise<EventView[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 30_000);
  const events: EventView[] = [];
  try {
    const response = await fetch(`${baseUrl}${path}`, { headers: authHeaders(), signal: controller.signal });
    if (response.body === null) throw new Error('the stream has no body');
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .find((line) => line.startsWith('data: '));
        buffer = buffer.slice(end + 2);
        if (data !== undefined) {
          const event = JSON.parse(data.slice('data: '.length)) as EventView;
          events.push(event);
          if (until(event)) return events;
        }
        end = buffer.indexOf('\n\n');
      }
    }
    return events;
  } catch (error) {
    // Aborted after 30 s: the caller's assertions show what arrived.
    if (controller.signal.aborted) return events;
    throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
