import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess } from './managed-process';

const AGENT_MAIN = resolve(__dirname, '../../../agent/dist/main.js');
const run = promisify(execFile);

/** Settings of `emofleet-agent run` a scenario may change (docs: agent/README.md). */
export interface AgentRunSettings {
  /** Broker URL; default: the one from the enrolment. A scenario points it at a proxy to cut the link. */
  readonly mqttUrl?: string;
  /** Frames per second of the synthetic camera; 0 runs no camera (no detection, no new events). */
  readonly fps: number;
  /** `synthetic` (default: costs nothing) or `native` (the real detector running the installed darknet model). */
  readonly detector?: 'synthetic' | 'native';
  readonly keepaliveSeconds?: number;
  readonly spoolMaxBytes?: number;
  /** Wraps the agent command (e.g. with libfaketime's environment). */
  readonly extraEnv?: Record<string, string>;
}

/**
 * A real agent process (`agent/dist/main.js run`) with its own data directory, enrolled through the control
 * plane: synthetic camera and detector, so it detects (and spools events) once a model is installed.
 */
export class AgentProcess {
  private process: ManagedProcess | undefined;
  private starts = 0;

  private constructor(
    readonly name: string,
    readonly deviceId: string,
    readonly dataDirectory: string,
  ) {}

  /** Enrols with `emofleet-agent enroll` against `apiUrl` with a one-time `token`. */
  static async enrol(
    apiUrl: string,
    token: string,
    name: string,
    dataDirectory?: string,
  ): Promise<AgentProcess> {
    const directory = dataDirectory ?? mkdtempSync(join(tmpdir(), `emofleet-faults-agent-`));
    const { stdout } = await run(process.execPath, [
      AGENT_MAIN,
      'enroll',
      '--server',
      apiUrl,
      '--token',
      token,
      '--name',
      name,
      '--data-dir',
      directory,
    ]);
    const deviceId = /enrolled as (\S+);/.exec(stdout)?.[1];
    if (deviceId === undefined) throw new Error(`enrolment of ${name} printed no device id: ${stdout}`);
    return new AgentProcess(name, deviceId, directory);
  }

  get spoolDirectory(): string {
    return join(this.dataDirectory, 'spool');
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  get log(): string {
    return this.process?.log ?? '';
  }

  start(settings: AgentRunSettings): void {
    if (this.process?.running) throw new Error(`agent ${this.name} already running`);
    this.starts += 1;
    const camera =
      settings.fps > 0
        ? ['--source', 'synthetic:', '--fps', String(settings.fps), '--frame-size', '64x48']
        : [];
    this.process = new ManagedProcess(
      `agent ${this.name} #${this.starts}`,
      process.execPath,
      [
        AGENT_MAIN,
        'run',
        '--data-dir',
        this.dataDirectory,
        '--detector',
        settings.detector ?? 'synthetic',
        ...camera,
        '--min-duration-ms',
        '100',
        '--reconnect-max-ms',
        '4000',
        '--telemetry-interval-ms',
        '2000',
        '--log-level',
        'warn',
        ...(settings.mqttUrl === undefined ? [] : ['--mqtt-url', settings.mqttUrl]),
        ...(settings.keepaliveSeconds === undefined
          ? []
          : ['--keepalive-seconds', String(settings.keepaliveSeconds)]),
        ...(settings.spoolMaxBytes === undefined
          ? []
          : ['--spool-max-bytes', String(settings.spoolMaxBytes)]),
      ],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...settings.extraEnv } },
    );
  }

  /** `kill -9`. */
  async kill(): Promise<void> {
    await this.process?.kill();
  }

  /** SIGTERM: the agent flushes its tracker into the spool, syncs it and says goodbye. */
  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM');
  }

  /** SIGSTOP / SIGCONT. */
  pause(): void {
    this.process?.signal('SIGSTOP');
  }

  unpause(): void {
    this.process?.signal('SIGCONT');
  }

  async dispose(): Promise<void> {
    await this.process?.kill();
    rmSync(this.dataDirectory, { recursive: true, force: true });
  }
}
