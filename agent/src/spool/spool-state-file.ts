import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { lostSequenceRangeSchema, sequenceNumberSchema } from '@emofleet/protocol';

const spoolStateSchema = z.object({
  version: z.literal(1),
  /** Highest contiguous seq the control plane acknowledged: nothing at or below it is kept. */
  acknowledgedSeq: sequenceNumberSchema,
  /** Events dropped because the spool was full (or lost to corruption), since the spool was created. */
  droppedTotal: sequenceNumberSchema,
  /** Dropped ranges above `acknowledgedSeq`: still to be declared to the control plane. */
  lost: z.array(lostSequenceRangeSchema),
  /**
   * Highest seq ever handed out, persisted when the segments that held it are deleted, so that a spool whose
   * segments are all gone still never reuses a number.
   */
  highestAssignedSeq: sequenceNumberSchema,
});

export type SpoolState = z.infer<typeof spoolStateSchema>;

export const EMPTY_SPOOL_STATE: SpoolState = {
  version: 1,
  acknowledgedSeq: 0,
  droppedTotal: 0,
  lost: [],
  highestAssignedSeq: 0,
};

/**
 * The spool's small mutable state, in one JSON file replaced atomically (temp file, fsync, rename, fsync of the
 * directory): after a crash it holds either the old or the new state, never a mix.
 */
export class SpoolStateFile {
  constructor(private readonly filePath: string) {}

  /** The stored state; throws naming the file when it exists but is not a valid state. */
  read(): SpoolState {
    let text: string;
    try {
      text = fs.readFileSync(this.filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_SPOOL_STATE;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`${this.filePath}: not JSON (${(error as Error).message})`);
    }
    const parsed = spoolStateSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `${this.filePath}: not a spool state: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    return parsed.data;
  }

  write(state: SpoolState): void {
    const temporary = `${this.filePath}.tmp`;
    const fd = fs.openSync(temporary, 'w', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify(state)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, this.filePath);
    fsyncDirectory(path.dirname(this.filePath));
  }
}

/** Makes a rename or unlink in `directory` durable. */
export function fsyncDirectory(directory: string): void {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
