import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { writeFileAtomic } from '../src';

describe('writeFileAtomic', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'atomic-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('replaces the file content as a whole', () => {
    const path = join(directory, 'a.cfg');
    writeFileSync(path, 'old');
    writeFileAtomic(path, 'new content');
    expect(readFileSync(path, 'utf8')).toBe('new content');
    expect(readdirSync(directory)).toEqual(['a.cfg']);
  });

  it('removes its temporary file and keeps the target when the rename fails', () => {
    const target = join(directory, 'occupied');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x');
    expect(() => writeFileAtomic(target, 'data')).toThrow();
    expect(readdirSync(directory)).toEqual(['occupied']);
    expect(readdirSync(target)).toEqual(['keep']);
  });

  it('fails without creating anything when the directory does not exist', () => {
    expect(() => writeFileAtomic(join(directory, 'missing', 'x.cfg'), 'data')).toThrow(/ENOENT/);
    expect(readdirSync(directory)).toEqual([]);
  });
});
