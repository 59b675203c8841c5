import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { ManagedProcess } from './managed-process';
import { waitForPort } from './wait';

const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

/**
 * A private Mosquitto on a free port with persistence on (retained messages and persistent sessions survive a
 * restart, as with the production broker), anonymous access (the control plane's `unmanaged` credentials mode).
 */
export class PrivateMosquitto {
  private server: ManagedProcess | undefined;

  private constructor(
    private readonly directory: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivateMosquitto> {
    const directory = mkdtempSync(join(tmpdir(), 'emofleet-faults-mosquitto-'));
    const port = await freePort();
    writeFileSync(
      join(directory, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${directory}/`,
        // Room for a fleet's QoS 1 backlog while the control plane is away.
        'max_queued_messages 100000',
        // Started as root, mosquitto would switch to the `mosquitto` user, who cannot write our directory.
        'user root',
        '',
      ].join('\n'),
    );
    const broker = new PrivateMosquitto(directory, port);
    await broker.startServer();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async startServer(): Promise<void> {
    this.server = new ManagedProcess('mosquitto', MOSQUITTO, ['-c', join(this.directory, 'mosquitto.conf')]);
    await waitForPort('private mosquitto', this.port);
  }

  /** SIGTERM: mosquitto saves its persistence file and exits, dropping every connection. */
  async stopServer(): Promise<void> {
    await this.server?.stop('SIGTERM');
  }

  async dispose(): Promise<void> {
    await this.server?.stop('SIGKILL');
    rmSync(this.directory, { recursive: true, force: true });
  }
}
