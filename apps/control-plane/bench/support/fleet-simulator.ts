import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  type FleetSimulatorSettings,
  type FleetSnapshot,
  type SimulatorReply,
  type SimulatorRequest,
} from './fleet-simulator-messages';

const CHILD_ENTRY = path.join(__dirname, 'fleet-simulator.child.ts');
/** The control plane's project directory: tsx reads its tsconfig, which maps @emofleet/* to their sources. */
const PROJECT_DIRECTORY = path.resolve(__dirname, '../..');

/** The simulated fleet's process, seen from the bench: start, read counters, stop. */
export class FleetSimulator {
  private nextRequestId = 1;
  private readonly waiting = new Map<number, (snapshot: FleetSnapshot) => void>();
  private failure: Error | undefined;
  private readonly failed: Promise<never>;

  private constructor(private readonly child: ChildProcess) {
    let fail: (error: Error) => void = () => undefined;
    this.failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.failed.catch(() => undefined);
    const onFailure = (error: Error) => {
      this.failure ??= error;
      fail(this.failure);
    };
    child.on('message', (reply: SimulatorReply) => {
      if (reply.type === 'failed') onFailure(new Error(`simulated fleet failed: ${reply.message}`));
      if (reply.type === 'snapshot' || reply.type === 'stopped') {
        this.waiting.get(reply.requestId)?.(reply.snapshot);
        this.waiting.delete(reply.requestId);
      }
    });
    child.on('exit', (code, signal) =>
      onFailure(new Error(`simulated fleet exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`)),
    );
  }

  /** Forks the fleet process and resolves when every agent has been started (not necessarily connected). */
  /** `onForked` gets the process as soon as it exists (so a caller can end it even if starting never finishes). */
  static async start(
    settings: FleetSimulatorSettings,
    onForked: (fleet: FleetSimulator) => void = () => undefined,
  ): Promise<{ fleet: FleetSimulator; startupMs: number }> {
    const child = fork(CHILD_ENTRY, [], {
      cwd: PROJECT_DIRECTORY,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const fleet = new FleetSimulator(child);
    onForked(fleet);
    const started = new Promise<number>((resolve) =>
      child.on('message', (reply: SimulatorReply) => {
        if (reply.type === 'started') resolve(reply.startupMs);
      }),
    );
    fleet.send({ type: 'start', settings });
    return { fleet, startupMs: await Promise.race([started, fleet.failed]) };
  }

  snapshot(): Promise<FleetSnapshot> {
    return this.request('snapshot');
  }

  /** Stops every agent (offline state published, spool closed); the process then exits. */
  async stop(): Promise<FleetSnapshot> {
    const snapshot = await this.request('stop');
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    return snapshot;
  }

  /** For cleanup after a failure: ends the process if it still runs. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private request(type: 'snapshot' | 'stop'): Promise<FleetSnapshot> {
    if (this.failure) return Promise.reject(this.failure);
    const requestId = this.nextRequestId++;
    const answered = new Promise<FleetSnapshot>((resolve) => this.waiting.set(requestId, resolve));
    this.send({ type, requestId });
    return Promise.race([answered, this.failed]);
  }

  private send(request: SimulatorRequest): void {
    this.child.send(request);
  }
}
