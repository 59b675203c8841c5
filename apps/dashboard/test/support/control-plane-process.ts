import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const CONTROL_PLANE_MAIN = resolve(__dirname, '../../../control-plane/dist/main.js');

export interface ControlPlaneProcess {
  url: string;
  /** Everything the process printed (boot lines, warnings), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `npm start` as an operator runs it (apps/control-plane/dist/main.js, which also serves the built dashboard),
 * with the given environment; resolves with its API URL once it says it is ready.
 */
export function startControlPlaneProcess(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ControlPlaneProcess> {
  const child: ChildProcess = spawn(process.execPath, [CONTROL_PLANE_MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.once('exit', (code, signal) => {
    output += `\n[the control plane exited: ${code ?? signal}]\n`;
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
  };
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      void stop();
      rejectStart(new Error(`the control plane was not ready within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const ready = /ready: API (https?:\/\/\S+?),/.exec(output);
      if (ready?.[1] !== undefined) {
        clearTimeout(timer);
        resolveStart({ url: ready[1], output: () => output, stop });
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      rejectStart(new Error(`the control plane exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}
