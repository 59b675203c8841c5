import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const PROJECT_DIRECTORY = path.resolve(__dirname, '../..');
/**
 * What `npm start` runs: the compiled control plane. `BENCH_CONTROL_PLANE_DIST` (a directory beside `dist`, e.g. a
 * copy of an older build) compares two builds in the same conditions.
 */
const CONTROL_PLANE_MAIN = path.join(
  PROJECT_DIRECTORY,
  process.env.BENCH_CONTROL_PLANE_DIST ?? 'dist',
  'main.js',
);
const READY_LINE = /ready: API (\S+?),/;
const BOOT_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

/**
 * The real control plane (`dist/main.js`, role `all`) as a child process with the bench's environment; its
 * output goes to `logFile`.
 */
export class ControlPlaneProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly httpUrl: string,
    private readonly logFile: string,
  ) {}

  /** `nodeArguments` go before the script (e.g. `--cpu-prof`). */
  static async start(
    environment: Record<string, string>,
    logFile: string,
    nodeArguments: readonly string[] = [],
  ): Promise<ControlPlaneProcess> {
    if (!existsSync(CONTROL_PLANE_MAIN))
      throw new Error(`${CONTROL_PLANE_MAIN} is missing: run \`npx nx run control-plane:build\` first`);
    const child = spawn(process.execPath, [...nodeArguments, CONTROL_PLANE_MAIN], {
      env: { ...process.env, ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(logFile);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const httpUrl = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the control plane did not get ready in ${BOOT_TIMEOUT_MS} ms; see ${logFile}`));
      }, BOOT_TIMEOUT_MS);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const ready = READY_LINE.exec(output);
        if (ready?.[1] === undefined) return;
        clearTimeout(timer);
        resolve(ready[1]);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the control plane exited during boot (code ${code ?? 'none'}):\n${tail(logFile)}`));
      });
    });
    return new ControlPlaneProcess(child, httpUrl, logFile);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Warning and error lines in its log so far (pino JSON, level >= 40), with the first few messages. */
  loggedProblems(): { count: number; first: string[] } {
    const problems = readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((line) => /^\{.*"level":(4|5|6)\d/.test(line))
      .map((line) => {
        const entry = JSON.parse(line) as { msg?: unknown };
        return typeof entry.msg === 'string' ? entry.msg : line;
      });
    return { count: problems.length, first: problems.slice(0, 3) };
  }

  /** Resident set size now, in bytes (from /proc); 0 once it exited. */
  rssBytes(): number {
    try {
      const line = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      return Number(line?.[1] ?? 0) * 1024;
    } catch {
      return 0;
    }
  }

  /** SIGTERM (graceful: drains MQTT, flushes telemetry), SIGKILL if it hangs. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

/** Whether a control-plane source file changed after the build the bench runs (then the figures are stale). */
export function buildOlderThanSources(): boolean {
  if (!existsSync(CONTROL_PLANE_MAIN)) return true;
  const built = statSync(CONTROL_PLANE_MAIN).mtimeMs;
  const newest = (directory: string): number =>
    Math.max(
      0,
      ...readdirSync(directory, { withFileTypes: true }).map((entry) => {
        const entryPath = path.join(directory, entry.name);
        return entry.isDirectory() ? newest(entryPath) : statSync(entryPath).mtimeMs;
      }),
    );
  return newest(path.join(PROJECT_DIRECTORY, 'src')) > built;
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
