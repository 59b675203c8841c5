import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where JetPack installs trtexec (it is not on PATH by default). */
export const JETPACK_TRTEXEC = '/usr/src/tensorrt/bin/trtexec';

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A configured builder command that cannot run. */
export class BuilderCommandError extends Error {
  override readonly name = 'BuilderCommandError';
}

/**
 * The engine builder command of this device: the configured one (`--engine-builder`, which must be an
 * executable file), else JetPack's trtexec, else a `trtexec` on PATH, else null (the device builds no engines).
 */
export function resolveBuilderCommand(configured: string | null, env: NodeJS.ProcessEnv): string | null {
  if (configured !== null) {
    const absolute = path.resolve(configured);
    if (!isExecutableFile(absolute)) {
      throw new BuilderCommandError(`engine builder ${absolute} is not an executable file`);
    }
    return absolute;
  }
  if (isExecutableFile(JETPACK_TRTEXEC)) return JETPACK_TRTEXEC;
  for (const directory of (env.PATH ?? '').split(path.delimiter)) {
    if (directory === '') continue;
    const candidate = path.join(directory, 'trtexec');
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

export interface BuilderRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr as they arrived: the first `headBytes` and the last `tailBytes` (the middle elided). */
  readonly output: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
}

export interface BuilderRunOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The child is killed (SIGKILL) after this long. */
  readonly timeoutMs: number;
  /** Output kept from the start (trtexec names its TensorRT version in its first line). */
  readonly headBytes?: number;
  /** Output kept from the end (the performance summary and any error are at the end). */
  readonly tailBytes?: number;
}

/**
 * Runs the builder command with an argument vector (no shell), capturing stdout and stderr interleaved in a
 * bounded buffer, and resolves when it exits (or is killed at the time-out). Rejects only when it cannot start.
 */
export function runBuilderCommand(options: BuilderRunOptions): Promise<BuilderRun> {
  const headBytes = options.headBytes ?? 16 * 1024;
  const tailBytes = options.tailBytes ?? 256 * 1024;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let head = Buffer.alloc(0);
    let tail = Buffer.alloc(0);
    let elided = 0;
    const collect = (chunk: Buffer) => {
      if (head.length < headBytes) {
        const take = Math.min(headBytes - head.length, chunk.length);
        head = Buffer.concat([head, chunk.subarray(0, take)]);
        chunk = chunk.subarray(take);
      }
      if (chunk.length === 0) return;
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > tailBytes) {
        elided += tail.length - tailBytes;
        tail = tail.subarray(tail.length - tailBytes);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      const gap = elided > 0 ? `\n[… ${elided} bytes of output not kept …]\n` : '';
      resolve({
        exitCode,
        signal,
        output: head.toString('utf8') + gap + tail.toString('utf8'),
        durationMs: Date.now() - started,
        timedOut,
      });
    });
  });
}
