import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentProcess, type AgentRunSettings } from './agent-process';
import { ControlPlaneApi, type DeviceJobDetail, type HealthCheckSpec } from './control-plane-api';
import { ControlPlaneProcess, type ControlPlaneEnvironment } from './control-plane-process';
import { accountEvents, type DeviceEventAccount } from './event-ledger';
import { freePort } from './free-port';
import { type PostgresTemplate, PrivatePostgres } from './private-postgres';
import { PrivateMosquitto } from './private-mosquitto';
import { PrivateRedis } from './private-redis';
import { SimulatedFleet } from './simulated-fleet';
import { highestAssignedSeq } from './spool-reader';
import { TcpProxy } from './tcp-proxy';
import { waitFor } from './wait';

export interface FleetOptions {
  /** Simulated devices in this process, for volume (0: none). */
  readonly simulatedDevices: number;
  /** Enrol the simulated devices (tagged like the agents) so that they install models, e.g. in rollouts. */
  readonly enrolSimulatedDevices?: boolean;
  /** One event per simulated device every this many ms. */
  readonly simulatedIntervalMs?: number;
  /** Real agent processes. */
  readonly agents: number;
  readonly agentSettings?: Partial<AgentRunSettings>;
  /** Each agent reaches the broker through a proxy of its own that can cut its link (`brokerLinkOf`). */
  readonly agentsBehindProxy?: boolean;
  /** Artifact URLs point at a proxy in front of the api that can slow downloads (`artifactLink`). */
  readonly artifactsBehindProxy?: boolean;
}

/** Settings of the agents unless a scenario says otherwise: 30 FPS synthetic camera. */
const AGENT_DEFAULTS: AgentRunSettings = { fps: 30 };

/**
 * Everything one scenario runs, all private and killable: PostgreSQL, Redis, Mosquitto, the control plane as
 * separate api and worker processes, real agent processes and simulated devices.
 */
export class Fleet {
  readonly agents: AgentProcess[] = [];
  simulated: SimulatedFleet | undefined;
  private readonly brokerLinks = new Map<AgentProcess, TcpProxy>();
  artifactLink: TcpProxy | undefined;
  private readonly agentSettings: AgentRunSettings;

  private constructor(
    readonly name: string,
    readonly postgres: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly mosquitto: PrivateMosquitto,
    readonly api: ControlPlaneProcess,
    readonly worker: ControlPlaneProcess,
    readonly client: ControlPlaneApi,
    private readonly dataDirectory: string,
    private readonly options: FleetOptions,
  ) {
    this.agentSettings = { ...AGENT_DEFAULTS, ...options.agentSettings };
  }

  static async start(template: PostgresTemplate, name: string, options: FleetOptions): Promise<Fleet> {
    const started: { dispose(): Promise<void> | void }[] = [];
    try {
      const [postgres, redis, mosquitto] = await Promise.all([
        PrivatePostgres.start(template),
        PrivateRedis.start(),
        PrivateMosquitto.start(),
      ]);
      started.push(postgres, redis, mosquitto);
      const dataDirectory = mkdtempSync(join(tmpdir(), 'emofleet-faults-control-plane-'));
      started.push({ dispose: () => rmSync(dataDirectory, { recursive: true, force: true }) });
      const apiPort = await freePort();
      const artifactLink = options.artifactsBehindProxy ? await TcpProxy.start(apiPort) : undefined;
      if (artifactLink) started.push({ dispose: () => artifactLink.close() });
      const environment: ControlPlaneEnvironment = {
        databaseUrl: postgres.url,
        redisUrl: redis.url,
        mqttUrl: mosquitto.url,
        dataDirectory,
        adminToken: `emf_faults_admin_${randomBytes(24).toString('base64url')}`,
        ...(artifactLink ? { publicUrl: `http://127.0.0.1:${artifactLink.port}` } : {}),
      };
      // The api first: it runs the migrations the worker then finds done.
      const api = await ControlPlaneProcess.start('api', environment, apiPort);
      started.push({ dispose: () => api.kill() });
      const worker = await ControlPlaneProcess.start('worker', environment);
      started.push({ dispose: () => worker.kill() });
      const client = new ControlPlaneApi(() => api.url, environment.adminToken);
      const fleet = new Fleet(name, postgres, redis, mosquitto, api, worker, client, dataDirectory, options);
      fleet.artifactLink = artifactLink;
      started.length = 0;
      await fleet.startDevices();
      return fleet;
    } catch (error) {
      for (const part of started.reverse()) await part.dispose();
      throw error;
    }
  }

  private async startDevices(): Promise<void> {
    if (this.options.agents > 0) {
      const token = await this.client.createEnrolmentToken(
        `${this.name} agents`,
        this.options.agents,
        this.tags,
      );
      for (let index = 1; index <= this.options.agents; index += 1) {
        const agent = await AgentProcess.enrol(this.api.url, token, `${this.name}-agent-${index}`);
        this.agents.push(agent);
        if (this.options.agentsBehindProxy)
          this.brokerLinks.set(agent, await TcpProxy.start(this.mosquitto.port));
        this.startAgent(agent);
      }
    }
    if (this.options.simulatedDevices > 0) {
      this.simulated = await SimulatedFleet.start({
        count: this.options.simulatedDevices,
        idPrefix: `${this.name}-sim`,
        mqttUrl: this.mosquitto.url,
        mqttVersion: 5,
        ...(this.options.enrolSimulatedDevices ? { enrolled: await this.enrolSimulatedDevices() } : {}),
      });
    }
  }

  /** The tags of every enrolled device of this fleet (a rollout selector for all of them). */
  get tags(): Record<string, string> {
    return { fleet: this.name };
  }

  private async enrolSimulatedDevices(): Promise<{
    devices: { deviceId: string; secret: string }[];
    manifestPublicKey: string;
  }> {
    const count = this.options.simulatedDevices;
    const token = await this.client.createEnrolmentToken(`${this.name} simulated`, count, this.tags);
    const devices = [];
    let manifestPublicKey = '';
    for (let index = 1; index <= count; index += 1) {
      const enrolment = await this.client.enrol(token, `${this.name}-sim-${index}`);
      devices.push({ deviceId: enrolment.deviceId, secret: enrolment.secret });
      manifestPublicKey = enrolment.signingPublicKey;
    }
    return { devices, manifestPublicKey };
  }

  /** (Re)starts an agent with the fleet's settings (through its broker proxy when it has one). */
  startAgent(agent: AgentProcess, overrides: Partial<AgentRunSettings> = {}): void {
    const link = this.brokerLinks.get(agent);
    agent.start({
      ...this.agentSettings,
      ...(link ? { mqttUrl: `mqtt://127.0.0.1:${link.port}` } : {}),
      ...overrides,
    });
  }

  /** The proxy between `agent` and the broker (fleets started with `agentsBehindProxy`). */
  brokerLinkOf(agent: AgentProcess): TcpProxy {
    const link = this.brokerLinks.get(agent);
    if (link === undefined) throw new Error(`${agent.name} reaches the broker directly`);
    return link;
  }

  /** Starts the simulated devices' events. */
  generateSimulatedEvents(): void {
    this.simulated?.generate(this.options.simulatedIntervalMs ?? 200);
  }

  /**
   * Assigns `modelVersionId` to the agents and waits until every apply job ended; returns the jobs. The agents
   * detect (and so generate events) from then on.
   */
  async installModel(
    agents: readonly AgentProcess[],
    modelVersionId: string,
    options: { healthCheck?: HealthCheckSpec; timeoutSeconds?: number; timeoutMs?: number } = {},
  ): Promise<DeviceJobDetail[]> {
    const jobs = [];
    for (const agent of agents) {
      jobs.push(
        await this.client.assignModel(agent.deviceId, modelVersionId, {
          ...(options.healthCheck ? { healthCheck: options.healthCheck } : {}),
          ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
        }),
      );
    }
    return Promise.all(jobs.map((job) => this.jobEnds(job.jobId, options.timeoutMs ?? 60_000)));
  }

  jobEnds(jobId: string, timeoutMs: number): Promise<DeviceJobDetail> {
    return waitFor(
      `device job ${jobId} finished`,
      () => this.client.deviceJob(jobId),
      (job) => !['QUEUED', 'IN_PROGRESS'].includes(job.status),
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** Per device, the highest seq generated so far (agents: read from a copy of their spool). */
  generatedNow(): Map<string, number> {
    const generated = new Map(this.simulated?.generated() ?? []);
    for (const agent of this.agents) generated.set(agent.deviceId, highestAssignedSeq(agent.spoolDirectory));
    return generated;
  }

  /**
   * Waits until the control plane stored (or had declared lost) every event up to `targets` for each device,
   * by its acknowledged frontier; returns how long that took.
   */
  async storedUpTo(targets: ReadonlyMap<string, number>, timeoutMs: number): Promise<number> {
    const started = Date.now();
    const pending = new Map(targets);
    await waitFor(
      'control plane caught up with the generated events',
      async () => {
        const behind: string[] = [];
        for (const [deviceId, target] of [...pending]) {
          const continuity = await this.client.continuity(deviceId);
          if (continuity.highestContiguousSeq >= target) pending.delete(deviceId);
          else if (behind.length < 3)
            behind.push(`${deviceId} target ${target}: ${JSON.stringify(continuity)}`);
        }
        return behind;
      },
      (left) => left.length === 0,
      { timeoutMs, intervalMs: 500 },
    );
    return Date.now() - started;
  }

  /**
   * Ends generation and accounts for every event: every device is stopped (agents with SIGTERM: the tracker
   * flushes into the spool), its highest seq read from its spool, and started again without a camera, so it
   * delivers what it holds and generates nothing more.
   */
  async finish(drainTimeoutMs: number): Promise<DeviceEventAccount[]> {
    const [simulatedGenerated] = await Promise.all([
      this.simulated?.stopForGood() ?? new Map<string, number>(),
      ...this.agents.map((agent) => agent.stop()),
    ]);
    const generated = new Map(simulatedGenerated);
    for (const agent of this.agents) generated.set(agent.deviceId, highestAssignedSeq(agent.spoolDirectory));
    for (const agent of this.agents) this.startAgent(agent, { fps: 0 });
    await this.storedUpTo(generated, drainTimeoutMs).catch(() => undefined);
    return accountEvents(this.postgres, this.client, generated);
  }

  /** What the control plane and (for an agent) the spool say about a device's events, to explain a loss. */
  async describeEventState(deviceId: string): Promise<string> {
    const continuity = JSON.stringify(await this.client.continuity(deviceId));
    const agent = this.agents.find((candidate) => candidate.deviceId === deviceId);
    if (agent === undefined) return `continuity ${continuity}`;
    const stateFile = join(agent.spoolDirectory, 'spool-state.json');
    const spool = existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : 'no spool state';
    const segments = readdirSync(agent.spoolDirectory).filter((name) => name.endsWith('.seg'));
    return `continuity ${continuity}; spool ${spool.trim()} segments ${segments.join(',')}; agent log ${agent.log.slice(-3000)}`;
  }

  /** Stops everything and deletes every directory. */
  async dispose(): Promise<void> {
    await this.simulated?.dispose().catch(() => undefined);
    for (const agent of this.agents) await agent.dispose();
    for (const link of this.brokerLinks.values()) await link.close();
    await this.artifactLink?.close();
    await this.worker.kill();
    await this.api.kill();
    await Promise.all([this.postgres.dispose(), this.redis.dispose(), this.mosquitto.dispose()]);
    rmSync(this.dataDirectory, { recursive: true, force: true });
  }
}
