import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { CliError } from '../../cli-error';
import { DetectExitCode } from './detect-exit-codes';
import type { DecodedFrame, FrameDecoder } from './frame-decoder';

/** How much of ffmpeg's / ffprobe's stderr is kept for error messages. */
const STDERR_TAIL_BYTES = 4096;
const RGB24_BYTES_PER_PIXEL = 3;

interface Exit {
  readonly code: number | null;
  readonly spawnError?: NodeJS.ErrnoException;
}

interface ProbedStream {
  readonly width?: number;
  readonly height?: number;
}

function isUrl(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

function lastLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines[lines.length - 1] ?? 'no error message';
}

function decoderMissing(tool: string): CliError {
  return new CliError(
    `${tool} not found on PATH: install ffmpeg (Debian/Ubuntu: apt install ffmpeg)`,
    DetectExitCode.decoderMissing,
  );
}

/** ffmpeg's messages often start with the input's name, which the message already gives. */
function undecodable(source: string, reason: string): CliError {
  const withoutSource = reason.startsWith(`${source}: `) ? reason.slice(source.length + 2) : reason;
  return new CliError(`cannot decode ${source}: ${withoutSource}`, DetectExitCode.badInput);
}

/** Resolves once the process has ended or failed to start; keeps the tail of its stderr. */
function watch(child: ChildProcess): { exit: Promise<Exit>; stderr: () => string } {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    tail = (tail + text).slice(-STDERR_TAIL_BYTES);
  });
  const exit = new Promise<Exit>((resolve) => {
    child.once('error', (spawnError: NodeJS.ErrnoException) => resolve({ code: null, spawnError }));
    child.once('close', (code: number | null) => resolve({ code }));
  });
  return { exit, stderr: () => tail };
}

async function checkLocalSource(source: string): Promise<void> {
  if (isUrl(source)) return;
  try {
    const info = await stat(source);
    if (!info.isFile()) throw new CliError(`${source}: not a file`, DetectExitCode.badInput);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `${source}: no such file` : `${source}: ${(error as Error).message}`,
      DetectExitCode.badInput,
    );
  }
}

/**
 * Decodes through the ffmpeg command line: `ffprobe` reads the first video stream's size, then `ffmpeg`
 * writes raw RGB24 frames to a pipe. Frames are read as the consumer asks for them, so a stalled consumer
 * stalls ffmpeg (pipe back-pressure) instead of buffering the video. Both tools are looked up on the PATH
 * of `process.env` as it is when a source is opened (passed explicitly, so a PATH changed at run time counts).
 */
export class FfmpegFrameDecoder implements FrameDecoder {
  async *frames(source: string): AsyncGenerator<DecodedFrame> {
    await checkLocalSource(source);
    const { width, height } = await this.probe(source);
    yield* this.decode(source, width, height);
  }

  private async probe(source: string): Promise<{ width: number; height: number }> {
    const child = spawn(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-show_streams', '-of', 'json', source],
      { stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
    );
    const { exit, stderr } = watch(child);
    let json = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      json += text;
    });
    const { code, spawnError } = await exit;
    if (spawnError?.code === 'ENOENT') throw decoderMissing('ffprobe');
    if (spawnError) throw undecodable(source, `ffprobe: ${spawnError.message}`);
    if (code !== 0) throw undecodable(source, lastLine(stderr()));
    let streams: ProbedStream[];
    try {
      streams = (JSON.parse(json) as { streams?: ProbedStream[] }).streams ?? [];
    } catch {
      throw undecodable(source, 'ffprobe printed no readable stream description');
    }
    const { width, height } = streams[0] ?? {};
    if (width === undefined || height === undefined || width < 1 || height < 1) {
      throw undecodable(source, 'no image or video stream found');
    }
    return { width, height };
  }

  private async *decode(source: string, width: number, height: number): AsyncGenerator<DecodedFrame> {
    // -noautorotate: keep the probed width x height even for videos with a rotation tag.
    const input = ['-v', 'error', '-nostdin', '-noautorotate', '-i', source];
    const output = ['-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
    const child = spawn('ffmpeg', [...input, ...output], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    const { exit, stderr } = watch(child);
    const frameBytes = width * height * RGB24_BYTES_PER_PIXEL;
    const rgb = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    let index = 0;
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < chunk.length) {
          const copied = chunk.copy(
            rgb,
            filled,
            offset,
            offset + Math.min(frameBytes - filled, chunk.length - offset),
          );
          filled += copied;
          offset += copied;
          if (filled === frameBytes) {
            yield { index, width, height, rgb };
            index += 1;
            filled = 0;
          }
        }
      }
      const { code, spawnError } = await exit;
      if (spawnError?.code === 'ENOENT') throw decoderMissing('ffmpeg');
      if (spawnError) throw undecodable(source, `ffmpeg: ${spawnError.message}`);
      if (code !== 0) throw undecodable(source, lastLine(stderr()));
      if (filled !== 0) {
        throw undecodable(source, `ffmpeg stopped inside frame ${index} (${filled} of ${frameBytes} bytes)`);
      }
      if (index === 0) throw undecodable(source, 'ffmpeg produced no frames');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
  }
}
