import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger } from '../src/logger';
import { EventSpool } from '../src/spool';
import { sampleEvent } from './support/sample-events';

jest.setTimeout(60_000);

/** Runs the writer child until it has printed `minimumAppends` appends, then kills it with SIGKILL. */
async function writeUntilKilled(
  directory: string,
  minimumAppends: number,
): Promise<{ appended: number[]; acknowledged: number }> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      path.join(__dirname, 'support/register-ts.js'),
      path.join(__dirname, 'support/spool-writer-child.ts'),
      directory,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const appended: number[] = [];
  let acknowledged = 0;
  let buffered = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [what, value] = line.split(' ');
      if (what === 'appended') appended.push(Number(value));
      if (what === 'acknowledged') acknowledged = Number(value);
    }
    // Kill at a moment that varies with scheduling, typically in the middle of a write or a sync.
    if (appended.length >= minimumAppends) child.kill('SIGKILL');
  });
  expect(await exited).toBe('SIGKILL');
  return { appended, acknowledged };
}

describe('event spool under kill -9 (a child process killed while appending)', () => {
  let directory: string;
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-spool-crash-'));
  });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('loses no synced event and never reuses or duplicates a seq across three crashes', async () => {
    const allAppended: number[] = [];
    let acknowledged = 0;
    for (let round = 0; round < 3; round += 1) {
      const result = await writeUntilKilled(directory, 150 + round * 70);
      allAppended.push(...result.appended);
      acknowledged = Math.max(acknowledged, result.acknowledged);
    }
    // Every seq printed by a writer was handed out once: no writer reused a number of an earlier one.
    expect(new Set(allAppended).size).toBe(allAppended.length);

    const spool = EventSpool.open({
      directory,
      maxBytes: 64 * 1024 * 1024,
      segmentBytes: 8192,
      fsync: { mode: 'every-append' },
      logger: silentLogger,
    });
    try {
      const stored = spool.readFrom(1, 1_000_000).map((event) => event.seq);
      const storedSet = new Set(stored);
      expect(storedSet.size).toBe(stored.length);
      const missing = allAppended.filter((seq) => seq > acknowledged && !storedSet.has(seq));
      expect(missing).toEqual([]);
      expect(stored[0]).toBeGreaterThan(spool.stats.acknowledgedSeq);
      // In order, no gaps other than declared losses (none here: the spool is far from full).
      stored.forEach((seq, index) => index > 0 && expect(seq).toBe((stored[index - 1] as number) + 1));
      expect(spool.stats.droppedTotal).toBe(0);
      const next = spool.append(sampleEvent(0)).seq;
      expect(next).toBeGreaterThan(Math.max(...allAppended));
    } finally {
      spool.close();
    }
  });
});
