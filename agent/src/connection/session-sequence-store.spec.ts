import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SessionSequenceStore } from './session-sequence-store';

describe('SessionSequenceStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-bdseq-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('seeds from the clock, then increments by one and persists every value', async () => {
    const filePath = path.join(dir, 'nested', 'connection-session.json');
    const store = new SessionSequenceStore({ filePath, now: () => 1_000 });
    expect(await store.next()).toBe(1_000);
    expect(await store.next()).toBe(1_001);
    expect(JSON.parse(await fs.readFile(filePath, 'utf8'))).toEqual({ bdSeq: 1_001 });
    expect((await fs.stat(filePath)).mode & 0o777).toBe(0o600);
  });

  it('continues from the persisted value after a restart', async () => {
    const filePath = path.join(dir, 'connection-session.json');
    await fs.writeFile(filePath, '{"bdSeq": 41}');
    const store = new SessionSequenceStore({ filePath, now: () => 5 });
    expect(await store.next()).toBe(42);
    expect(await new SessionSequenceStore({ filePath }).next()).toBe(43);
  });

  it.each(['not json', '{"bdSeq": -1}', '{"bdSeq": 1.5}', '[]', '{}'])(
    'reports a corrupt file (%s) and seeds from the clock',
    async (content) => {
      const filePath = path.join(dir, 'connection-session.json');
      await fs.writeFile(filePath, content);
      const warnings: string[] = [];
      const store = new SessionSequenceStore({
        filePath,
        now: () => 777,
        onWarning: (w) => warnings.push(w),
      });
      expect(await store.next()).toBe(777);
      expect(warnings).toEqual([expect.stringContaining(`${filePath}: not a {"bdSeq"`)]);
    },
  );

  it('fails loudly when the directory cannot be written', async () => {
    const blocker = path.join(dir, 'file');
    await fs.writeFile(blocker, '');
    const store = new SessionSequenceStore({ filePath: path.join(blocker, 'connection-session.json') });
    await expect(store.next()).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
});
