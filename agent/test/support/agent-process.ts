import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const agentRoot = path.resolve(__dirname, '../..');

/** Runs `emofleet-agent <args>` from the TypeScript sources in a child `node` process. */
export function spawnAgent(args: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  return spawnTypeScript(path.join(agentRoot, 'src/main.ts'), args, env);
}

/** Runs a TypeScript entry point (e.g. a test agent in test/support) in a child `node` process. */
export function spawnTypeScript(entry: string, args: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  const child = spawn(process.execPath, ['-r', path.join(__dirname, 'register-ts.js'), entry, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new AgentProcess(child);
}

export class AgentProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Parsed JSON log lines. */
  logLines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
