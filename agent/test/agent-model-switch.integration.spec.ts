import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnAgent, type AgentProcess } from './support/agent-process';
import { EnrolledAgentFixture } from './support/enrolled-agent-fixture';
import { testBundle } from './support/signed-models';
import { until } from './support/wait';

jest.setTimeout(60_000);

const DEVICE_ID = 'switch-device';
const SECRET = 'switch-secret';

describe('the agent process switching models from retained desired states (local Mosquitto, artifact server double), killed with SIGKILL mid-download', () => {
  const device = new EnrolledAgentFixture({ label: 'switch', deviceId: DEVICE_ID, secret: SECRET });

  function startAgent(): AgentProcess {
    return device.track(
      spawnAgent(['run', '--source', 'synthetic:', '--frame-size', '64x48', '--fps', '10'], {
        EMOFLEET_DATA_DIR: device.dataDir,
        EMOFLEET_DETECTOR: 'synthetic',
        EMOFLEET_LOG_LEVEL: 'debug',
      }),
    );
  }

  const runningModelIs = (modelId: string) => (birth: Record<string, unknown>) =>
    (birth.runningModel as { modelId?: string } | null)?.modelId === modelId;

  it('never loads a half-downloaded model, runs the last good one after the kill, and resumes with Range', async () => {
    startAgent();
    await device.publishDesired(1, 'model-a', device.server.add(testBundle(0)));
    await device.observer.waitFor('birth', runningModelIs('model-a'), 20_000);

    const big = device.server.add(testBundle(0, 4 * 1024 * 1024));
    device.server.bytesPerSecond = 1024 * 1024;
    await device.publishDesired(2, 'model-b', big);
    const partFile = path.join(device.dataDir, 'downloads', `${big.sha256}.part`);
    await until(
      () => fs.existsSync(partFile) && fs.statSync(partFile).size > 1024 * 1024,
      'a partial download',
      15_000,
    );
    const killed = device.agents.pop() as AgentProcess;
    killed.kill('SIGKILL');
    await killed.exited;
    const pointer = device.readPointer();
    expect(pointer.current).toMatchObject({ modelId: 'model-a', slot: 'a' });
    const partialBytes = fs.statSync(partFile).size;
    expect(partialBytes).toBeLessThan(big.sizeBytes);

    device.server.bytesPerSecond = undefined;
    device.observer.messages.length = 0;
    startAgent();
    // The restart runs the last good model at once, then finishes the download and switches.
    const births = () => device.observer.on('birth').map((m) => m.json as Record<string, unknown>);
    await until(() => births().some(runningModelIs('model-b')), 'birth with model-b after resuming', 30_000);
    expect(births()[0]).toMatchObject({ runningModel: { modelId: 'model-a' } });
    const resumed = device.server.requests.filter(
      (r) => r.path.endsWith(big.sha256) && r.range !== undefined,
    );
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(Number(/bytes=(\d+)-/.exec(resumed[0]?.range ?? '')?.[1])).toBeGreaterThanOrEqual(partialBytes);
    const after = device.readPointer();
    expect(after).toMatchObject({
      current: { modelId: 'model-b', slot: 'b' },
      previous: { modelId: 'model-a', slot: 'a' },
    });
  });
});
