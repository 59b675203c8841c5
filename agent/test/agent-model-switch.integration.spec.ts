import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPublication, TopicScheme } from '@emofleet/protocol';
import { writeEnrolment } from '../src/enrolment';
import { spawnAgent, type AgentProcess } from './support/agent-process';
import { ArtifactServerDouble } from './support/artifact-server-double';
import { BrokerObserver, LOCAL_MOSQUITTO_URL, uniqueTopicPrefix } from './support/broker-observer';
import { desiredStateFor, signingKeys, testBundle } from './support/signed-models';
import { until } from './support/wait';

jest.setTimeout(60_000);

const DEVICE_ID = 'switch-device';
const SECRET = 'switch-secret';

describe('the agent process switching models from retained desired states (local Mosquitto, artifact server double), killed with SIGKILL mid-download', () => {
  const keys = signingKeys();
  const prefix = uniqueTopicPrefix('switch');
  const topics = new TopicScheme(prefix);
  let dataDir: string;
  let server: ArtifactServerDouble;
  let observer: BrokerObserver;
  const agents: AgentProcess[] = [];

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-switch-'));
    writeEnrolment(dataDir, {
      deviceId: DEVICE_ID,
      name: 'switch test',
      secret: SECRET,
      mqttUrl: LOCAL_MOSQUITTO_URL,
      topicPrefix: prefix,
      signingPublicKey: keys.publicKeyPem,
      caCertificate: null,
      server: 'http://127.0.0.1',
      enrolledAt: Date.now(),
    });
    server = await ArtifactServerDouble.start({ username: DEVICE_ID, password: SECRET });
    observer = await BrokerObserver.watch(LOCAL_MOSQUITTO_URL, prefix);
  });

  afterEach(async () => {
    for (const agent of agents.splice(0)) {
      agent.kill('SIGKILL');
      await agent.exited;
    }
    await observer.close();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function startAgent(): AgentProcess {
    const agent = spawnAgent(['run', '--source', 'synthetic:', '--frame-size', '64x48', '--fps', '10'], {
      EMOFLEET_DATA_DIR: dataDir,
      EMOFLEET_DETECTOR: 'synthetic',
      EMOFLEET_LOG_LEVEL: 'debug',
    });
    agents.push(agent);
    return agent;
  }

  async function publishDesired(
    desiredVersion: number,
    modelId: string,
    artifact: ReturnType<ArtifactServerDouble['add']>,
  ) {
    const desired = desiredStateFor({
      deviceId: DEVICE_ID,
      desiredVersion,
      modelId,
      artifact,
      privateKeyPem: keys.privateKeyPem,
      healthCheck: { warmupFrames: 2, measureFrames: 20, minFps: 10, minAccuracy: null },
    });
    const publication = buildPublication(topics, 'desired', desired, 4);
    await observer.publish(publication.topic, publication.payload, true);
  }

  const runningModelIs = (modelId: string) => (birth: Record<string, unknown>) =>
    (birth.runningModel as { modelId?: string } | null)?.modelId === modelId;

  it('never loads a half-downloaded model, runs the last good one after the kill, and resumes with Range', async () => {
    startAgent();
    await publishDesired(1, 'model-a', server.add(testBundle(0)));
    await observer.waitFor('birth', runningModelIs('model-a'), 20_000);

    const big = server.add(testBundle(0, 4 * 1024 * 1024));
    server.bytesPerSecond = 1024 * 1024;
    await publishDesired(2, 'model-b', big);
    const partFile = path.join(dataDir, 'downloads', `${big.sha256}.part`);
    await until(
      () => fs.existsSync(partFile) && fs.statSync(partFile).size > 1024 * 1024,
      'a partial download',
      15_000,
    );
    const killed = agents.pop() as AgentProcess;
    killed.kill('SIGKILL');
    await killed.exited;
    const pointer = JSON.parse(fs.readFileSync(path.join(dataDir, 'models', 'current'), 'utf8'));
    expect(pointer.current).toMatchObject({ modelId: 'model-a', slot: 'a' });
    const partialBytes = fs.statSync(partFile).size;
    expect(partialBytes).toBeLessThan(big.sizeBytes);

    server.bytesPerSecond = undefined;
    observer.messages.length = 0;
    startAgent();
    // The restart runs the last good model at once, then finishes the download and switches.
    const births = () => observer.on('birth').map((m) => m.json as Record<string, unknown>);
    await until(() => births().some(runningModelIs('model-b')), 'birth with model-b after resuming', 30_000);
    expect(births()[0]).toMatchObject({ runningModel: { modelId: 'model-a' } });
    const resumed = server.requests.filter((r) => r.path.endsWith(big.sha256) && r.range !== undefined);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(Number(/bytes=(\d+)-/.exec(resumed[0]?.range ?? '')?.[1])).toBeGreaterThanOrEqual(partialBytes);
    const after = JSON.parse(fs.readFileSync(path.join(dataDir, 'models', 'current'), 'utf8'));
    expect(after).toMatchObject({
      current: { modelId: 'model-b', slot: 'b' },
      previous: { modelId: 'model-a', slot: 'a' },
    });
  });
});
