import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { ephemeralPort } from '../../src/infra/free-port';

const START_TIMEOUT_MS = 15_000;

/**
 * A private Mosquitto for the bench: anonymous, in memory, no connection limit, on a free loopback port. The
 * machine's shared broker serves everyone else's tests; ten thousand bench connections there would crowd them
 * (and its file-descriptor limit). Its open-file limit is the bench's own (`ulimit -n`).
 */
export class PrivateBroker {
  private constructor(
    private readonly child: ChildProcess,
    private readonly directory: string,
    readonly url: string,
  ) {}

  static async start(): Promise<PrivateBroker> {
    const port = await ephemeralPort();
    const directory = mkdtempSync(join(tmpdir(), 'emofleet-bench-mosquitto-'));
    const config = join(directory, 'mosquitto.conf');
    writeFileSync(
      config,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence false',
        'max_connections -1',
        // The control plane's subscription receives the whole fleet's traffic: do not drop its backlog.
        'max_queued_messages 0',
        'max_inflight_messages 0',
        'log_type error',
        'log_type warning',
        `log_dest file ${join(directory, 'mosquitto.log')}`,
        // Started as root, mosquitto would switch to the `mosquitto` user, which cannot read the private directory.
        `user ${userInfo().username}`,
        '',
      ].join('\n'),
    );
    const child = spawn(mosquittoBinary(), ['-c', config], { stdio: 'ignore' });
    const broker = new PrivateBroker(child, directory, `mqtt://127.0.0.1:${port}`);
    try {
      await broker.waitUntilAccepting();
    } catch (error) {
      await broker.stop();
      throw error;
    }
    return broker;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.directory, { recursive: true, force: true });
  }

  private async waitUntilAccepting(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (this.child.exitCode !== null)
        throw new Error(
          `mosquitto exited at start (code ${this.child.exitCode}); config in ${this.directory}`,
        );
      try {
        const client = await connectAsync(this.url, { reconnectPeriod: 0, connectTimeout: 1000 });
        await client.endAsync();
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(
            `the private mosquitto at ${this.url} did not accept connections: ${String(error)}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

function mosquittoBinary(): string {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'])
    if (existsSync(candidate)) return candidate;
  return 'mosquitto';
}
