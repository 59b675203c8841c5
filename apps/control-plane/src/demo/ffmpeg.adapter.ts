import { spawn } from 'node:child_process';
import { rename } from 'node:fs/promises';
import { extname } from 'node:path';
import { Injectable } from '@nestjs/common';

/** ffmpeg is not installed (the demo video cannot be made). */
export class FfmpegMissingError extends Error {
  override readonly name = 'FfmpegMissingError';
}

/** The ffmpeg binary on PATH (`apt install ffmpeg`). */
@Injectable()
export class FfmpegAdapter {
  /**
   * Runs ffmpeg with `args`, whose last argument is the output file: it is written under a temporary name (same
   * extension, so ffmpeg picks the same muxer) and renamed when ffmpeg succeeds.
   */
  async writeFile(args: readonly string[]): Promise<void> {
    const output = args[args.length - 1];
    if (output === undefined) throw new Error('ffmpeg needs an output file as its last argument');
    const partial = `${output}.part${extname(output)}`;
    const stderr: Buffer[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('ffmpeg', [...args.slice(0, -1), partial], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new FfmpegMissingError('ffmpeg is not installed (apt install ffmpeg)')
            : error,
        ),
      );
      child.on('close', resolve);
    });
    if (code !== 0) {
      throw new Error(
        `ffmpeg exited with ${code}: ${Buffer.concat(stderr).toString('utf8').trim().slice(-2000)}`,
      );
    }
    await rename(partial, output);
  }
}
