import { type Readable } from 'node:stream';

/** A stored blob, named by the lower-case hex SHA-256 of its bytes. */
export interface StoredArtifact {
  sha256: string;
  sizeBytes: number;
}

export interface PutResult extends StoredArtifact {
  /** False when the store already held these bytes (nothing new was written). */
  created: boolean;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Content-addressed blob storage. The contract (see docs/artifacts.md), which any backend (filesystem, an
 * S3-compatible bucket) must keep:
 * - `put` consumes the stream, computes the SHA-256 while writing to a staging location, and makes the blob
 *   visible under its hash only after the whole stream was read and hashed; a stream longer than `maxBytes`
 *   fails with `ArtifactTooLargeError` and leaves nothing visible. Equal content is stored once.
 * - a visible blob never changes; `delete` removes it (the caller decides that nothing refers to it).
 */
export interface ArtifactStore {
  put(source: Readable, options: { maxBytes: number }): Promise<PutResult>;
  /** The size of the blob, or `undefined` when the store does not hold it. */
  stat(sha256: string): Promise<StoredArtifact | undefined>;
  /** A stream of the blob's bytes (or of `range` of them); throws `ArtifactNotFoundError` when absent. */
  openRead(sha256: string, range?: ByteRange): Promise<Readable>;
  /** Removes the blob; a no-op when absent. */
  delete(sha256: string): Promise<void>;
}

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export class ArtifactTooLargeError extends Error {
  override name = 'ArtifactTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`more than the limit of ${maxBytes} bytes`);
  }
}

export class ArtifactNotFoundError extends Error {
  override name = 'ArtifactNotFoundError';
  constructor(readonly sha256: string) {
    super(`no artifact with sha256 ${sha256}`);
  }
}
