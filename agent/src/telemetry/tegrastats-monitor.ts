import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Logger } from '../logger';
import { parseTegrastatsLine, type TegrastatsSample } from './tegrastats-line';

export const DEFAULT_TEGRASTATS_PATH = '/usr/bin/tegrastats';

/**
 * Runs `tegrastats --interval <ms>` (present on Jetsons only) and keeps the latest parsed line. On a machine
 * without the binary `latest` stays undefined and telemetry reports `gpu: null`.
 */
export class TegrastatsMonitor {
  private child: ChildProcess | undefined;
  private buffered = '';
  private sample: TegrastatsSample | undefined;
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    private readonly binary = DEFAULT_TEGRASTATS_PATH,
    private readonly intervalMs = 1000,
  ) {}

  get latest(): TegrastatsSample | undefined {
    return this.sample;
  }

  /** Starts the monitor when the binary exists; returns whether it did. */
  start(): boolean {
    if (!existsSync(this.binary)) return false;
    const child = spawn(this.binary, ['--interval', String(this.intervalMs)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString('utf8');
      const lines = this.buffered.split('\n');
      this.buffered = (lines.pop() ?? '').slice(-4096);
      for (const line of lines) this.sample = parseTegrastatsLine(line) ?? this.sample;
    });
    child.on('error', (error) => this.logger.warn('tegrastats failed', { error, binary: this.binary }));
    child.on('exit', (code, signal) => {
      if (!this.stopped) this.logger.warn('tegrastats exited; GPU statistics stop', { code, signal });
    });
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill('SIGTERM');
    this.child = undefined;
  }
}
