import * as os from 'node:os';
import * as path from 'node:path';
import { freeDiskBytes, freeDiskBytesFromDf } from './free-disk-space';

describe('free disk space', () => {
  it('reads the same free space through statfs as through df (within what other processes write meanwhile)', async () => {
    const directory = os.tmpdir();
    const [fromStatfs, fromDf] = await Promise.all([
      freeDiskBytes(directory),
      freeDiskBytesFromDf(directory),
    ]);
    expect(fromDf).toBeGreaterThan(0);
    expect(Math.abs(fromStatfs - fromDf)).toBeLessThan(256 * 1024 * 1024);
  });

  it('names the directory it cannot read, by either way', async () => {
    const missing = path.join(os.tmpdir(), 'emofleet-no-such-directory', 'downloads');
    await expect(freeDiskBytes(missing)).rejects.toThrow(`cannot read the free space of ${missing}`);
    await expect(freeDiskBytesFromDf(missing)).rejects.toThrow(`cannot read the free space of ${missing}`);
  });
});
