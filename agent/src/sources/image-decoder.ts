import { execFile } from 'node:child_process';
import { DEFAULT_FFMPEG_PATH } from './ffmpeg-frame-source';

/** Decodes one image file (any format ffmpeg reads) to rgb24 of the given size. */
export function decodeImageFile(
  file: string,
  width: number,
  height: number,
  ffmpegPath = DEFAULT_FFMPEG_PATH,
): Promise<Buffer> {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-frames:v', '1'];
  args.push('-vf', `scale=${width}:${height}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1');
  return new Promise((resolve, reject) => {
    execFile(
      ffmpegPath,
      args,
      { encoding: 'buffer', maxBuffer: width * height * 3 + 1024 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(
            new Error(`cannot decode image ${file}: ${stderr.toString('utf8').trim() || error.message}`),
          );
        } else if (stdout.length !== width * height * 3) {
          reject(
            new Error(
              `cannot decode image ${file}: got ${stdout.length} bytes, expected ${width * height * 3}`,
            ),
          );
        } else {
          resolve(stdout);
        }
      },
    );
  });
}
