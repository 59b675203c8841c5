import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface SessionSequenceStoreOptions {
  /** JSON file holding the last bdSeq used, e.g. `<dataDir>/connection-session.json`. */
  readonly filePath: string;
  readonly now?: () => number;
  readonly onWarning?: (message: string) => void;
}

/**
 * Persists the MQTT session sequence (bdSeq). Every connect attempt takes the next number before CONNECT, so
 * the last will registered with the broker and the birth of that session carry the same number, and no two
 * sessions of a device ever share one, even across restarts.
 *
 * A device without the file (first start, reflashed, or a corrupt file) seeds the sequence from the clock in
 * milliseconds: that value is larger than any sequence a previous installation reached by counting connects,
 * so the sequence keeps growing across a reset.
 */
export class SessionSequenceStore {
  private last: number | undefined;

  constructor(private readonly options: SessionSequenceStoreOptions) {}

  /** Takes the next bdSeq and persists it (atomically: temp file, fsync, rename) before returning it. */
  async next(): Promise<number> {
    const previous = this.last ?? (await this.read());
    const next = previous === undefined ? (this.options.now ?? Date.now)() : previous + 1;
    await this.write(next);
    this.last = next;
    return next;
  }

  private async read(): Promise<number | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.options.filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as { bdSeq?: unknown };
      if (typeof parsed.bdSeq === 'number' && Number.isSafeInteger(parsed.bdSeq) && parsed.bdSeq >= 0) {
        return parsed.bdSeq;
      }
    } catch {
      // Reported below together with a wrong shape.
    }
    this.options.onWarning?.(
      `${this.options.filePath}: not a {"bdSeq": <non-negative integer>} document; seeding the session sequence from the clock`,
    );
    return undefined;
  }

  private async write(bdSeq: number): Promise<void> {
    await fs.mkdir(path.dirname(this.options.filePath), { recursive: true });
    const temporary = `${this.options.filePath}.${process.pid}.tmp`;
    const handle = await fs.open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify({ bdSeq })}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, this.options.filePath);
  }
}
