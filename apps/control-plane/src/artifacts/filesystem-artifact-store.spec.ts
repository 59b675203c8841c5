import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { ArtifactNotFoundError, ArtifactTooLargeError } from './artifact-store';
import { FilesystemArtifactStore } from './filesystem-artifact-store';

describe('FilesystemArtifactStore', () => {
  let root: string;
  let store: FilesystemArtifactStore;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'artifact-store-'));
    store = new FilesystemArtifactStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const sha = (value: string) => createHash('sha256').update(value).digest('hex');
  const chunks = (...parts: string[]) => Readable.from(parts.map((part) => Buffer.from(part)));

  it('stores by content hash, once per content', async () => {
    const first = await store.put(chunks('hello ', 'world'), { maxBytes: 100 });
    expect(first).toEqual({ sha256: sha('hello world'), sizeBytes: 11, created: true });
    const again = await store.put(chunks('hello world'), { maxBytes: 100 });
    expect(again).toEqual({ ...first, created: false });
    expect(await store.stat(first.sha256)).toEqual({ sha256: first.sha256, sizeBytes: 11 });
    expect(await text(await store.openRead(first.sha256))).toBe('hello world');
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('reads an inclusive byte range', async () => {
    const { sha256 } = await store.put(chunks('0123456789'), { maxBytes: 100 });
    expect(await text(await store.openRead(sha256, { start: 2, end: 4 }))).toBe('234');
  });

  it('refuses a stream over the limit and keeps nothing of it', async () => {
    await expect(store.put(chunks('12345', '67890'), { maxBytes: 9 })).rejects.toBeInstanceOf(
      ArtifactTooLargeError,
    );
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(await store.stat(sha('1234567890'))).toBeUndefined();
  });

  it('deletes, and reports absent artifacts', async () => {
    const { sha256 } = await store.put(chunks('bye'), { maxBytes: 100 });
    await store.delete(sha256);
    await store.delete(sha256);
    expect(await store.stat(sha256)).toBeUndefined();
    await expect(store.openRead(sha256)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    expect(await store.stat('not-a-hash')).toBeUndefined();
  });
});
