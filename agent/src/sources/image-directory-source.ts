import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decodeImageFile } from './image-decoder';
import { type FrameSource, type RawFrame } from './raw-frame';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.ppm', '.pgm']);

/** The image files of a directory in name order. */
export async function listImages(directory: string): Promise<string[]> {
  const names = await fs.readdir(directory);
  return names
    .filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()))
    .sort()
    .map((name) => path.join(directory, name));
}

/** Every image of a directory, in name order, decoded by ffmpeg to the frame size, at most `fps` per second. */
export class ImageDirectorySource implements FrameSource {
  private stopped = false;

  constructor(
    private readonly directory: string,
    private readonly width: number,
    private readonly height: number,
    private readonly fps: number,
    private readonly ffmpegPath?: string,
  ) {}

  get description(): string {
    return `images in ${this.directory}`;
  }

  start(onFrame: (frame: RawFrame) => void, onEnd: (error?: Error) => void): void {
    const run = async () => {
      const files = await listImages(this.directory);
      if (files.length === 0)
        throw new Error(`${this.directory}: no image files (${[...IMAGE_EXTENSIONS].join(', ')})`);
      for (let index = 0; index < files.length && !this.stopped; index += 1) {
        const started = Date.now();
        const data = await decodeImageFile(files[index] as string, this.width, this.height, this.ffmpegPath);
        if (this.stopped) break;
        onFrame({
          index,
          timestamp: Date.now(),
          width: this.width,
          height: this.height,
          format: 'rgb24',
          data,
        });
        const wait = 1000 / this.fps - (Date.now() - started);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    };
    run().then(
      () => onEnd(),
      (error: unknown) => onEnd(error instanceof Error ? error : new Error(String(error))),
    );
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
}
