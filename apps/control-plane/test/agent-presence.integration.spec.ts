import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { DevicesService } from '../src/devices/devices.service';
import { enrolDevice } from './support/enrolment';
import { eventually } from './support/eventually';
import {
  authHeaders,
  createTestDatabase,
  type TestMode,
  testConfig,
  uniqueSuffix,
  CONTROL_PLANE_START_TIMEOUT_MS,
} from './support/test-environment';

const AGENT_MAIN = resolve(__dirname, '../../../agent/dist/main.js');
const KEEPALIVE_SECONDS = 5;
/** Generous bounds on waiting for a state, so a broken build fails with a message instead of hanging. */
const ONLINE_WAIT_LIMIT_MS = 30_000;
const OFFLINE_WAIT_LIMIT_MS = 40_000;

interface DeviceView {
  id: string;
  online: boolean;
  capabilities: { arch?: string; cpuCores?: number } | null;
}

/** The real agent process (agent/dist, built before these tests) against a real control plane. */
describe.each<TestMode>(['external-services', 'embedded'])('agent presence with %s', (mode) => {
  let controlPlane: RunningControlPlane;
  let topicPrefix: string;
  const cleanups: Array<() => Promise<void> | void> = [];
  const agents: ChildProcess[] = [];

  beforeAll(async () => {
    const overrides: Record<string, string> = {};
    if (mode === 'external-services') {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      overrides.DATABASE_URL = database.url;
    }
    const test = testConfig(mode, overrides);
    cleanups.push(test.cleanup);
    topicPrefix = test.topicPrefix;
    controlPlane = await startControlPlane(test.config, () => undefined);
  }, CONTROL_PLANE_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const agent of agents)
      if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    await controlPlane?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  const getDevice = async (id: string): Promise<DeviceView | undefined> => {
    const response = await fetch(`${controlPlane.httpUrl}/devices/${id}`, { headers: authHeaders() });
    return response.status === 200 ? ((await response.json()) as DeviceView) : undefined;
  };

  it('keeps a device offline when its session ended before the birth of that session was handled (retained, out of order)', async () => {
    const presence = controlPlane.app.get(DevicesService);
    const deviceId = (await enrolDevice(controlPlane.httpUrl, `retained-${uniqueSuffix()}`)).deviceId;
    const birth = (sessionSeq: number) =>
      presence.recordBirth({
        deviceId,
        sessionSeq,
        capabilities: {},
        simulated: true,
        runningModel: null,
        seenAt: new Date(),
      });
    const online = async () => (await getDevice(deviceId))?.online;
    await birth(3);
    expect(await online()).toBe(true);
    // A restarted control plane gets session 3's retained birth and its retained offline state at once; the
    // state's handler finishes first.
    expect(
      await presence.recordSessionState({ deviceId, online: false, sessionSeq: 3, seenAt: new Date() }),
    ).toBe(true);
    await birth(3);
    expect(await online()).toBe(false);
    // A late birth of an older session changes nothing; the next session's birth brings the device online.
    await birth(2);
    expect(await online()).toBe(false);
    await birth(4);
    expect(await online()).toBe(true);
    expect(
      await presence.recordSessionState({ deviceId, online: false, sessionSeq: 3, seenAt: new Date() }),
    ).toBe(false);
    expect(await online()).toBe(true);
  });

  it('shows an agent online once it connects, and offline from its last will after kill -9', async () => {
    // Enrolled like a real device: the embedded broker only admits enrolled devices with their own secret.
    const enrolment = await enrolDevice(controlPlane.httpUrl, `agent-${uniqueSuffix()}`);
    const deviceId = enrolment.deviceId;
    const dataDir = mkdtempSync(join(tmpdir(), 'emofleet-agent-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const agent = spawn(
      process.execPath,
      [
        AGENT_MAIN,
        'run',
        '--mqtt-url',
        enrolment.mqttUrl,
        '--device-id',
        deviceId,
        '--data-dir',
        dataDir,
        '--topic-prefix',
        topicPrefix,
        '--keepalive-seconds',
        String(KEEPALIVE_SECONDS),
        '--log-level',
        'warn',
      ],
      // The secret goes in the environment, not the process list.
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, EMOFLEET_DEVICE_SECRET: enrolment.secret },
      },
    );
    agents.push(agent);

    // Waits for the state, not for a deadline: the limits below only bound how long a broken build hangs.
    // How fast a device shows up is measured by the benchmarks, not asserted here.
    const online = await eventually(
      async () => {
        if (agent.exitCode !== null || agent.signalCode !== null)
          throw new Error(
            `the agent exited (code ${String(agent.exitCode)}, signal ${String(agent.signalCode)})`,
          );
        return getDevice(deviceId);
      },
      (device) => device?.online === true,
      {
        timeoutMs: ONLINE_WAIT_LIMIT_MS,
        intervalMs: 100,
        what: `${deviceId} shown online by GET /devices/${deviceId} after its agent started`,
      },
    );
    expect(online?.capabilities?.arch).toBe(process.arch);

    agent.kill('SIGKILL');
    // The broker publishes the will once 1.5 keep-alive periods pass without traffic.
    await eventually(
      () => getDevice(deviceId),
      (device) => device?.online === false,
      {
        timeoutMs: OFFLINE_WAIT_LIMIT_MS,
        intervalMs: 200,
        what: `${deviceId} shown offline (last will) after kill -9 of its agent`,
      },
    );
  }, 90_000);
});
