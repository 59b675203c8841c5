import * as fs from 'node:fs';
import * as path from 'node:path';
import { INSTALL_MARKER } from '../src/slots';
import { spawnTypeScript, type AgentProcess } from './support/agent-process';
import { EnrolledAgentFixture } from './support/enrolled-agent-fixture';
import { type LoadRecord } from './support/install-crash-agent';
import { testBundle } from './support/signed-models';
import { until } from './support/wait';

jest.setTimeout(90_000);

const DEVICE_ID = 'install-crash-device';
const SECRET = 'install-crash-secret';
const CRASH_AGENT = path.join(__dirname, 'support', 'install-crash-agent.ts');
const WEIGHTS_A = 200_000;
const WEIGHTS_B = 1_000_000;

describe('the agent process killed with SIGKILL during INSTALL, or crash-looping with a new model (local Mosquitto, artifact server double)', () => {
  const device = new EnrolledAgentFixture({ label: 'install-crash', deviceId: DEVICE_ID, secret: SECRET });
  const { agents } = device;

  function startAgent(
    blockAt?: { step: 'unpack' | 'load'; sha256: string },
    extraEnv: Record<string, string> = {},
  ): AgentProcess {
    return device.track(
      spawnTypeScript(CRASH_AGENT, [], {
        EMOFLEET_DATA_DIR: device.dataDir,
        EMOFLEET_DETECTOR: 'synthetic',
        EMOFLEET_SOURCE: 'synthetic:',
        EMOFLEET_FRAME_SIZE: '64x48',
        EMOFLEET_FPS: '30',
        EMOFLEET_LOG_LEVEL: 'debug',
        ...(blockAt === undefined
          ? {}
          : { EMOFLEET_TEST_BLOCK: blockAt.step, EMOFLEET_TEST_BLOCK_SHA256: blockAt.sha256 }),
        ...extraEnv,
      }),
    );
  }

  /** Restarts the agent whenever it dies (as systemd's Restart=always does) until `condition` holds. */
  async function superviseUntil(condition: () => boolean, env: Record<string, string>, what: string) {
    await until(
      () => {
        const last = agents[agents.length - 1] as AgentProcess;
        if (last.child.exitCode !== null || last.child.signalCode !== null) startAgent(undefined, env);
        return condition();
      },
      what,
      80_000,
    );
  }

  const lastBirth = () => device.observer.on('birth').pop()?.json;

  const births = () =>
    device.observer
      .on('birth')
      .map((m) => (m.json?.runningModel as { modelId?: string } | null)?.modelId ?? null);
  const loads = (): LoadRecord[] =>
    fs
      .readFileSync(path.join(device.dataDir, 'loads.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as LoadRecord);
  const readPointer = () => device.readPointer();

  it.each(['unpack', 'load'] as const)(
    'killed while it %ss the new model: restarts on the last good model, never loads a half-installed slot, then installs cleanly',
    async (step) => {
      const artifactB = device.server.add(testBundle(0, WEIGHTS_B));
      startAgent({ step, sha256: artifactB.sha256 });
      await device.publishDesired(1, 'model-a', device.server.add(testBundle(0, WEIGHTS_A)));
      await until(() => births().includes('model-a'), 'birth with model-a', 30_000);

      await device.publishDesired(2, 'model-b', artifactB);
      const blockedAt = path.join(device.dataDir, 'blocked-at');
      await until(() => fs.existsSync(blockedAt), `the agent to reach ${step}`, 30_000);
      const killed = agents.pop() as AgentProcess;
      killed.kill('SIGKILL');
      expect((await killed.exited).signal).toBe('SIGKILL');
      fs.rmSync(blockedAt);

      // The state a power cut at this moment leaves: the pointer still names model-a in slot a; slot b holds
      // model-b's files, half-written (unpack) or complete (load), but is not current.
      expect(readPointer().current).toMatchObject({ modelId: 'model-a', slot: 'a' });
      const slotB = path.join(device.dataDir, 'models', 'slot-b');
      if (step === 'unpack') {
        expect(fs.statSync(path.join(slotB, 'model.weights')).size).toBeLessThan(WEIGHTS_B);
        expect(fs.existsSync(path.join(slotB, INSTALL_MARKER))).toBe(false);
      } else {
        expect(fs.existsSync(path.join(slotB, INSTALL_MARKER))).toBe(true);
      }
      const loadsBeforeRestart = loads().length;

      device.observer.messages.length = 0;
      startAgent();
      await until(() => births().includes('model-b'), 'birth with model-b after the restart', 30_000);
      expect(births()[0]).toBe('model-a');
      const afterRestart = loads().slice(loadsBeforeRestart);
      expect(afterRestart[0]).toEqual({
        modelId: 'model-a',
        slot: 'slot-a',
        weightsBytes: WEIGHTS_A,
        markerMatches: true,
      });
      // Every load, before and after the kill, was of a complete slot whose marker names the model.
      for (const record of loads()) {
        expect(record).toMatchObject({
          markerMatches: true,
          weightsBytes: record.modelId === 'model-a' ? WEIGHTS_A : WEIGHTS_B,
        });
      }
      expect(afterRestart.map((r) => r.modelId)).toEqual(['model-a', 'model-b']);
      expect(readPointer().current).toMatchObject({ modelId: 'model-b', slot: 'b' });
    },
  );

  /**
   * Runs model-a, then desires model-b built to kill the agent once it made `detections` detections, and keeps
   * restarting the agent (as its supervisor would) until a birth reports the rollback.
   */
  const runModelBThatKillsTheAgentAfter = async (detections: number): Promise<void> => {
    const artifactB = device.server.add(testBundle(0, WEIGHTS_B));
    const env = {
      EMOFLEET_TEST_CRASH_SHA256: artifactB.sha256,
      EMOFLEET_TEST_CRASH_AFTER_DETECTIONS: String(detections),
    };
    startAgent(undefined, env);
    await device.publishDesired(1, 'model-a', device.server.add(testBundle(0, WEIGHTS_A)));
    await until(() => births().includes('model-a'), 'birth with model-a', 30_000);
    await device.publishDesired(2, 'model-b', artifactB);
    await superviseUntil(() => lastBirth()?.lastRollback !== undefined, env, 'a birth with lastRollback');
  };

  it('a model that kills the agent after the switch (crash loop in probation) is rolled back at the 4th restart, and every birth reports it', async () => {
    // Past the health check's 22 detections: model-b is switched to, then kills the agent on every start.
    await runModelBThatKillsTheAgentAfter(40);
    expect(lastBirth()).toMatchObject({
      runningModel: { modelId: 'model-a' },
      lastRollback: {
        model: { modelId: 'model-b', version: '1.0.0' },
        desiredVersion: 2,
        restoredModel: { modelId: 'model-a', version: '1.0.0' },
        reason: expect.stringMatching(/^crash loop: the agent started 4 times with model-b/),
      },
    });
    // One process installed model-b and died with it, three more died on probation, the fifth rolled back.
    expect(agents).toHaveLength(5);
    expect(readPointer().current).toMatchObject({ modelId: 'model-a', slot: 'a' });
  });

  it('a model that kills the agent during its health check is given up after the 3rd death; the birth reports it', async () => {
    await runModelBThatKillsTheAgentAfter(0);
    expect(lastBirth()).toMatchObject({
      runningModel: { modelId: 'model-a' },
      lastRollback: {
        model: { modelId: 'model-b' },
        desiredVersion: 2,
        restoredModel: { modelId: 'model-a' },
        reason: expect.stringMatching(
          /^crash loop: the agent died 3 times while loading or health-checking model-b/,
        ),
      },
    });
    expect(agents).toHaveLength(4);
    // Given up: the retained desired state (version 2) is not tried again, model-a keeps running.
    expect(readPointer()).toMatchObject({ current: { modelId: 'model-a' }, handledDesiredVersion: 2 });
    expect(loads().filter((r) => r.modelId === 'model-b')).toHaveLength(3);
  });
});
