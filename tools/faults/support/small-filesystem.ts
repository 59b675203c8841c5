import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A tiny tmpfs mounted over a directory (root only: `mount -t tmpfs -o size=…`), so that writes there fail
 * with ENOSPC as on a full disk. The directory's files are carried over; `unmount` puts them back.
 */
export class SmallFilesystem {
  private constructor(private readonly directory: string) {}

  static mountOver(directory: string, sizeBytes: number): SmallFilesystem {
    const saved = mkdtempSync(join(tmpdir(), 'emofleet-faults-saved-'));
    cpSync(directory, saved, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', directory], {
        stdio: 'pipe',
      });
    } catch (error) {
      rmSync(saved, { recursive: true, force: true });
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(`cannot mount a tmpfs over ${directory} (needs root and mount permission): ${detail}`);
    }
    cpSync(saved, directory, { recursive: true });
    rmSync(saved, { recursive: true, force: true });
    return new SmallFilesystem(directory);
  }

  get freeBytes(): number {
    const stats = statfsSync(this.directory);
    return stats.bavail * stats.bsize;
  }

  /** Writes a filler file that leaves about `leaveBytes` free. */
  fill(leaveBytes: number): void {
    const size = Math.max(0, this.freeBytes - leaveBytes);
    writeFileSync(join(this.directory, 'filler'), Buffer.alloc(size));
  }

  /** Deletes the filler: the disk has room again. */
  free(): void {
    rmSync(join(this.directory, 'filler'), { force: true });
  }

  /** Unmounts, keeping the files that were written on the small filesystem. */
  unmount(): void {
    const saved = mkdtempSync(join(tmpdir(), 'emofleet-faults-saved-'));
    this.free();
    cpSync(this.directory, saved, { recursive: true });
    execFileSync('umount', [this.directory], { stdio: 'pipe' });
    for (const name of readdirSync(this.directory))
      rmSync(join(this.directory, name), { recursive: true, force: true });
    cpSync(saved, this.directory, { recursive: true });
    rmSync(saved, { recursive: true, force: true });
  }
}
