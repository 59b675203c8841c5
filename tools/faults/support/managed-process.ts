import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

/** Last lines a process wrote, kept to explain a failure. */
const KEPT_OUTPUT_CHARS = 16_000;

/**
 * A child process the suite owns: its output is kept (the tail) for failure reports, and it can be signalled
 * and awaited. Only processes started here are ever signalled.
 */
export class ManagedProcess {
  private output = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions = {},
  ) {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-KEPT_OUTPUT_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve, reject) => {
      child.once('error', (error) => {
        this.exitInfo = { code: null, signal: null };
        reject(new Error(`${name}: cannot start ${command}: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    // A failure to spawn is reported by `exited`; keep it from being an unhandled rejection meanwhile.
    this.exited.catch(() => undefined);
    this.child = child;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** What the process wrote (the last 16 000 characters). */
  get log(): string {
    return this.output;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if it is still running. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `kill -9`: no chance to clean up, as in a crash or power loss. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }
}
