import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPublication, TopicScheme } from '@emofleet/protocol';
import { writeEnrolment } from '../../src/enrolment';
import { type AgentProcess } from './agent-process';
import { ArtifactServerDouble } from './artifact-server-double';
import { BrokerObserver, LOCAL_MOSQUITTO_URL, uniqueTopicPrefix } from './broker-observer';
import { desiredStateFor, signingKeys } from './signed-models';

export interface EnrolledAgentOptions {
  /** Names the device, its topic prefix and its data directory. */
  readonly label: string;
  readonly deviceId: string;
  readonly secret: string;
}

/** The current/previous slot pointer an agent keeps in `<data dir>/models/current`. */
export interface SlotPointerFile {
  current: { modelId: string; slot: string } | null;
  previous?: { modelId: string; slot: string } | null;
  handledDesiredVersion?: number;
}

/**
 * Per test: a data directory holding an enrolment on the local Mosquitto under a topic prefix of its own, an
 * artifact server double that admits the device, and a broker observer of the prefix. Agent processes the test
 * starts are registered with `track` and killed (SIGKILL) afterwards; everything else is closed and removed.
 * Call it in a `describe` body: it registers the `beforeEach`/`afterEach` hooks.
 */
export class EnrolledAgentFixture {
  readonly keys = signingKeys();
  readonly topics: TopicScheme;
  /** Every agent process started in the current test, in start order. */
  readonly agents: AgentProcess[] = [];
  private current: { dataDir: string; server: ArtifactServerDouble; observer: BrokerObserver } | undefined;

  constructor(readonly options: EnrolledAgentOptions) {
    const prefix = uniqueTopicPrefix(options.label);
    this.topics = new TopicScheme(prefix);
    beforeEach(async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `emofleet-${options.label}-`));
      writeEnrolment(dataDir, {
        deviceId: options.deviceId,
        name: `${options.label} test`,
        secret: options.secret,
        mqttUrl: LOCAL_MOSQUITTO_URL,
        topicPrefix: prefix,
        signingPublicKey: this.keys.publicKeyPem,
        caCertificate: null,
        server: 'http://127.0.0.1',
        enrolledAt: Date.now(),
      });
      const server = await ArtifactServerDouble.start({
        username: options.deviceId,
        password: options.secret,
      });
      const observer = await BrokerObserver.watch(LOCAL_MOSQUITTO_URL, prefix);
      this.current = { dataDir, server, observer };
    });
    afterEach(async () => {
      for (const agent of this.agents.splice(0)) {
        agent.kill('SIGKILL');
        await agent.exited;
      }
      const current = this.current;
      this.current = undefined;
      if (current === undefined) return;
      await current.observer.close();
      await current.server.close();
      fs.rmSync(current.dataDir, { recursive: true, force: true });
    });
  }

  get dataDir(): string {
    return this.inTest().dataDir;
  }

  get server(): ArtifactServerDouble {
    return this.inTest().server;
  }

  get observer(): BrokerObserver {
    return this.inTest().observer;
  }

  /** Registers an agent process to be killed after the test. */
  track(agent: AgentProcess): AgentProcess {
    this.agents.push(agent);
    return agent;
  }

  /** Publishes a signed, retained desired state for `modelId` served as `artifact`, with a quick health check. */
  async publishDesired(
    desiredVersion: number,
    modelId: string,
    artifact: ReturnType<ArtifactServerDouble['add']>,
  ): Promise<void> {
    const desired = desiredStateFor({
      deviceId: this.options.deviceId,
      desiredVersion,
      modelId,
      artifact,
      privateKeyPem: this.keys.privateKeyPem,
      healthCheck: { warmupFrames: 2, measureFrames: 20, minFps: 10, minAccuracy: null },
    });
    const publication = buildPublication(this.topics, 'desired', desired, 4);
    await this.observer.publish(publication.topic, publication.payload, true);
  }

  readPointer(): SlotPointerFile {
    return JSON.parse(
      fs.readFileSync(path.join(this.dataDir, 'models', 'current'), 'utf8'),
    ) as SlotPointerFile;
  }

  private inTest(): { dataDir: string; server: ArtifactServerDouble; observer: BrokerObserver } {
    if (this.current === undefined)
      throw new Error(`EnrolledAgentFixture(${this.options.label}) used outside a test (no beforeEach ran)`);
    return this.current;
  }
}
