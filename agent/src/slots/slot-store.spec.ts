import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SlotStore } from './slot-store';

describe('SlotStore pointer file', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-slots-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const installed = {
    modelId: 'model-a',
    version: '1.0.0',
    format: 'darknet-bundle',
    sha256: 'a'.repeat(64),
    sizeBytes: 10,
    slot: 'a',
    desiredVersion: 1,
    installedAt: 1,
    measuredFps: 12,
    measuredAccuracy: null,
  };

  it('reads a pointer written by an older agent (no mAP, install attempt or rollback record)', () => {
    fs.writeFileSync(
      path.join(root, 'current'),
      JSON.stringify({ current: installed, previous: null, probation: null, handledDesiredVersion: 1 }),
    );
    expect(new SlotStore(root).readPointer()).toEqual({
      current: { ...installed, measuredMap50: null },
      previous: null,
      probation: null,
      handledDesiredVersion: 1,
      installAttempt: null,
      lastRollback: null,
    });
  });

  it('names the file and the bad field of a damaged pointer', () => {
    fs.writeFileSync(
      path.join(root, 'current'),
      JSON.stringify({
        current: { ...installed, slot: 'c' },
        previous: null,
        probation: null,
        handledDesiredVersion: 1,
      }),
    );
    expect(() => new SlotStore(root).readPointer()).toThrow(/current: not a slot pointer: current\.slot:/);
  });
});
