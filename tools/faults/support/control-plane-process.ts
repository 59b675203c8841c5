import { resolve } from 'node:path';
import { freePort } from './free-port';
import { ManagedProcess } from './managed-process';
import { waitFor } from './wait';

const CONTROL_PLANE_MAIN = resolve(__dirname, '../../../apps/control-plane/dist/main.js');

export type ControlPlaneRole = 'api' | 'worker';

/** What the api and worker processes share (docs: separate roles need one database, broker and data dir). */
export interface ControlPlaneEnvironment {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly mqttUrl: string;
  readonly dataDirectory: string;
  readonly adminToken: string;
  /** Base of artifact URLs in desired states (a throttling proxy in download scenarios). */
  readonly publicUrl?: string;
}

/**
 * One control-plane process (`apps/control-plane/dist/main.js`) of one role on a fixed port, so that it can be
 * killed and started again at the same address.
 */
export class ControlPlaneProcess {
  private process: ManagedProcess | undefined;
  private starts = 0;

  private constructor(
    readonly role: ControlPlaneRole,
    readonly port: number,
    private readonly environment: ControlPlaneEnvironment,
  ) {}

  /** Starts one on `port` (default: a free one). */
  static async start(
    role: ControlPlaneRole,
    environment: ControlPlaneEnvironment,
    port?: number,
  ): Promise<ControlPlaneProcess> {
    const controlPlane = new ControlPlaneProcess(role, port ?? (await freePort()), environment);
    await controlPlane.startProcess();
    return controlPlane;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  get log(): string {
    return this.process?.log ?? '';
  }

  async startProcess(): Promise<void> {
    if (this.process?.running) throw new Error(`control plane ${this.role} already running`);
    this.starts += 1;
    const { environment } = this;
    this.process = new ManagedProcess(
      `control-plane ${this.role} #${this.starts}`,
      process.execPath,
      [CONTROL_PLANE_MAIN],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          EMOFLEET_ROLE: this.role,
          HOST: '127.0.0.1',
          PORT: String(this.port),
          DATABASE_URL: environment.databaseUrl,
          REDIS_URL: environment.redisUrl,
          MQTT_URL: environment.mqttUrl,
          EMOFLEET_DATA_DIR: environment.dataDirectory,
          EMOFLEET_ADMIN_TOKEN: environment.adminToken,
          ...(environment.publicUrl === undefined ? {} : { HTTP_PUBLIC_URL: environment.publicUrl }),
          LOG_LEVEL: 'warn',
        },
      },
    );
    const started = this.process;
    await waitFor(
      `control plane ${this.role} ready`,
      async () => {
        if (!started.running) throw new Error(`exited during boot: ${started.log.slice(-2000)}`);
        return (await fetch(`${this.url}/health`)).status;
      },
      (status) => status === 200,
      { timeoutMs: 90_000, intervalMs: 250 },
    ).catch((error: unknown) => {
      started.signal('SIGKILL');
      throw error;
    });
  }

  /** `kill -9`. */
  async kill(): Promise<void> {
    await this.process?.kill();
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM', 20_000);
  }
}
