import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const MOSQUITTO_BINARY = process.env.MOSQUITTO_BINARY ?? '/usr/sbin/mosquitto';

/** A free TCP port on 127.0.0.1 (the OS picks one; we release it right away). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A mosquitto of our own on a fixed free port, which tests stop and start to simulate broker outages. */
export class PrivateBroker {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly configFile: string,
    private readonly directory: string,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /**
   * A broker on a free port. With `passwordFile` (mosquitto_passwd format) only those users may connect, with
   * `aclFile` they may use only the topics it grants;
   * `user root` keeps a broker started by root from dropping to the mosquitto user, who could not read our files.
   */
  static async create(options: { passwordFile?: string; aclFile?: string } = {}): Promise<PrivateBroker> {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-mosquitto-'));
    const port = await freePort();
    const configFile = path.join(directory, 'mosquitto.conf');
    const authentication =
      options.passwordFile === undefined
        ? ['allow_anonymous true']
        : ['allow_anonymous false', `password_file ${options.passwordFile}`];
    const authorization = options.aclFile === undefined ? [] : [`acl_file ${options.aclFile}`];
    const lines = [
      `listener ${port} 127.0.0.1`,
      ...authentication,
      ...authorization,
      'persistence false',
      'user root',
    ];
    await fs.writeFile(configFile, `${lines.join('\n')}\n`);
    return new PrivateBroker(port, configFile, directory);
  }

  async start(): Promise<void> {
    if (this.process !== undefined) throw new Error('private mosquitto already running');
    const child = spawn(MOSQUITTO_BINARY, ['-c', this.configFile], { stdio: 'ignore' });
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    const deadline = Date.now() + 5000;
    while (!(await portAccepts(this.port))) {
      if (this.process === undefined || Date.now() > deadline) {
        throw new Error(`${MOSQUITTO_BINARY} did not start listening on port ${this.port}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Kills the broker (SIGKILL: connections drop without a DISCONNECT, as in a crash or network loss). */
  async stop(): Promise<void> {
    const child = this.process;
    if (child === undefined) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    await fs.rm(this.directory, { recursive: true, force: true });
  }
}
