import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSpool, silentLogger } from '@emofleet/agent';

/**
 * The highest sequence number an agent has assigned, read from its spool directory with the agent's own
 * recovery code. The directory is copied first (the agent may be running and pruning it); the copy is opened,
 * never the original.
 */
export function highestAssignedSeq(spoolDirectory: string): number {
  for (let attempt = 1; ; attempt += 1) {
    const copy = mkdtempSync(join(tmpdir(), 'emofleet-faults-spool-copy-'));
    try {
      cpSync(spoolDirectory, copy, { recursive: true });
      const spool = EventSpool.open({
        directory: copy,
        maxBytes: 1 << 30,
        segmentBytes: 1 << 20,
        fsync: { mode: 'every-append' },
        logger: silentLogger,
      });
      const highest = spool.stats.nextSeq - 1;
      spool.close();
      return highest;
    } catch (error) {
      // A segment pruned while it was being copied: copy again.
      if (attempt >= 5) throw error;
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
}
