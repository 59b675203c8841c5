import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type ArtifactStore,
  ArtifactNotFoundError,
  ArtifactTooLargeError,
  type ByteRange,
  type PutResult,
  SHA256_PATTERN,
  type StoredArtifact,
} from './artifact-store';

/**
 * The default artifact store: `<root>/sha256/<first two hex digits>/<hash>`, staged in `<root>/tmp` and moved
 * into place with `link(2)` (atomic, and refuses to replace a blob that already exists), so a reader never sees
 * a partial file and concurrent uploads of the same bytes keep exactly one copy.
 */
export class FilesystemArtifactStore implements ArtifactStore {
  private readonly staging: string;
  private readonly blobs: string;

  constructor(root: string) {
    this.staging = join(root, 'tmp');
    this.blobs = join(root, 'sha256');
  }

  async put(source: Readable, options: { maxBytes: number }): Promise<PutResult> {
    await mkdir(this.staging, { recursive: true });
    const stagingPath = join(this.staging, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
    const hashing = new HashingLimit(options.maxBytes);
    try {
      await pipeline(source, hashing, createWriteStream(stagingPath, { flags: 'wx', mode: 0o640 }));
      const sha256 = hashing.digest();
      const finalPath = this.pathOf(sha256);
      await mkdir(join(finalPath, '..'), { recursive: true });
      let created = true;
      try {
        await link(stagingPath, finalPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        created = false;
      }
      return { sha256, sizeBytes: hashing.bytes, created };
    } finally {
      await rm(stagingPath, { force: true });
    }
  }

  async stat(sha256: string): Promise<StoredArtifact | undefined> {
    if (!SHA256_PATTERN.test(sha256)) return undefined;
    try {
      const info = await stat(this.pathOf(sha256));
      return { sha256, sizeBytes: info.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async openRead(sha256: string, range?: ByteRange): Promise<Readable> {
    if ((await this.stat(sha256)) === undefined) throw new ArtifactNotFoundError(sha256);
    const stream = createReadStream(this.pathOf(sha256), range ? { start: range.start, end: range.end } : {});
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  async delete(sha256: string): Promise<void> {
    if (!SHA256_PATTERN.test(sha256)) return;
    await unlink(this.pathOf(sha256)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  private pathOf(sha256: string): string {
    return join(this.blobs, sha256.slice(0, 2), sha256);
  }
}

/** Passes bytes through while hashing them; fails once more than `maxBytes` went by. */
class HashingLimit extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(new ArtifactTooLargeError(this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
