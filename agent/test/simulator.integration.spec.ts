import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPublication, TopicScheme } from '@emofleet/protocol';
import { silentLogger } from '../src/logger';
import type { DeviceAgent } from '../src/device-agent';
import { startSimulation, type RunningSimulation } from '../src/simulator';
import { ArtifactServerDouble } from './support/artifact-server-double';
import { BrokerObserver, LOCAL_MOSQUITTO_URL, uniqueTopicPrefix } from './support/broker-observer';
import { desiredStateFor, signingKeys, testBundle } from './support/signed-models';
import { until } from './support/wait';

jest.setTimeout(60_000);

describe('emofleet-agent simulate: N agents in one process against the local Mosquitto', () => {
  it('announces simulated devices, installs a signed model on each, and publishes telemetry and events', async () => {
    const count = 5;
    const prefix = uniqueTopicPrefix('simulate');
    const topics = new TopicScheme(prefix);
    const keys = signingKeys();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-simulate-'));
    const server = await ArtifactServerDouble.start(
      (username, password) => /^sim-\d+$/.test(username) && password === 'simulated',
    );
    const observer = await BrokerObserver.watch(LOCAL_MOSQUITTO_URL, prefix);
    let simulation: RunningSimulation | undefined;
    const started: string[] = [];
    try {
      simulation = await startSimulation({
        onAgentStarted: (agent) => started.push(agent.deviceId),
        count,
        idPrefix: 'sim',
        secret: 'simulated',
        mqttUrl: LOCAL_MOSQUITTO_URL,
        topicPrefix: prefix,
        mqttVersion: 4,
        dataDir,
        manifestPublicKey: keys.publicKeyPem,
        fps: 10,
        expressionSeconds: 1,
        telemetryIntervalMs: 500,
        agentVersion: '0.1.0',
        logger: silentLogger,
      });
      // Each agent is reported as it starts, in order.
      expect(started).toEqual(['sim-1', 'sim-2', 'sim-3', 'sim-4', 'sim-5']);
      await until(
        () => new Set(observer.on('birth').map((m) => m.json?.deviceId)).size === count,
        'all births',
        10_000,
      );
      expect(
        observer.on('birth').every((m) => (m.json?.capabilities as { simulated: boolean }).simulated),
      ).toBe(true);

      const artifact = server.add(testBundle(0));
      for (let n = 1; n <= count; n += 1) {
        const desired = desiredStateFor({
          deviceId: `sim-${n}`,
          desiredVersion: 1,
          modelId: 'sim-model',
          artifact,
          privateKeyPem: keys.privateKeyPem,
          healthCheck: null,
        });
        const publication = buildPublication(topics, 'desired', desired, 4);
        await observer.publish(publication.topic, publication.payload, true);
      }
      await until(
        () =>
          simulation?.agents.every((agent) => agent.reconciler.runningModel?.modelId === 'sim-model') ===
          true,
        'every simulated device running the model',
        15_000,
      );
      await until(
        () => new Set(observer.on('events').map((m) => m.json?.deviceId)).size === count,
        'events from every device',
        20_000,
      );
      const telemetry = observer.on('telemetry').map((m) => m.json as Record<string, unknown>);
      expect(telemetry.some((t) => t.modelId === 'sim-model' && (t.framesProcessed as number) > 0)).toBe(
        true,
      );
    } finally {
      await simulation?.stop();
      await observer.close();
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('stops the agents it already started when a later one fails to start', async () => {
    const prefix = uniqueTopicPrefix('simulate-fail');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-simulate-'));
    const observer = await BrokerObserver.watch(LOCAL_MOSQUITTO_URL, prefix);
    const started: DeviceAgent[] = [];
    try {
      const simulation = startSimulation({
        onAgentStarted: (agent) => started.push(agent),
        count: 0,
        idPrefix: 'unused',
        secret: 'unused',
        // A NUL byte cannot be in a path: the second agent's spool directory cannot be created.
        devices: [
          { deviceId: 'sim-first', secret: 'simulated' },
          { deviceId: 'sim-\0broken', secret: 'simulated' },
        ],
        mqttUrl: LOCAL_MOSQUITTO_URL,
        topicPrefix: prefix,
        mqttVersion: 4,
        dataDir,
        manifestPublicKey: null,
        fps: 10,
        telemetryIntervalMs: 500,
        agentVersion: '0.1.0',
        logger: silentLogger,
        // Long enough for the first agent to come online before the second one is tried.
        staggerMs: 1500,
      });
      await expect(simulation).rejects.toThrow(/null bytes/);
      expect(started.map((agent) => agent.deviceId)).toEqual(['sim-first']);
      expect(observer.on('state').some((m) => m.json?.state === 'online')).toBe(true);
      // The first agent left cleanly: its retained state says offline.
      expect(await observer.retained(LOCAL_MOSQUITTO_URL, `${prefix}/devices/sim-first/state`)).toMatchObject(
        { state: 'offline' },
      );
    } finally {
      // Without the clean-up under test the first agent would still run: stop it here (stop is idempotent).
      await Promise.allSettled(started.map((agent) => agent.stop()));
      await observer.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
