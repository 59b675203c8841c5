import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'fs';
import { basename, dirname, join } from 'path';

let temporaryCounter = 0;

/**
 * Writes `data` to `path` so that readers see either the old file or the complete new one: the bytes go to a
 * temporary file in the same directory, are flushed to disk, and the file is renamed over `path`. On any
 * failure the temporary file is removed and `path` is untouched.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  temporaryCounter += 1;
  const temporaryPath = join(dirname(path), `.${basename(path)}.${process.pid}.${temporaryCounter}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const descriptor = openSync(temporaryPath, 'wx', 0o644);
    try {
      let written = 0;
      while (written < bytes.length) {
        written += writeSync(descriptor, bytes, written, bytes.length - written);
      }
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporaryPath, path);
  } catch (error) {
    try {
      unlinkSync(temporaryPath);
    } catch {
      // The temporary file was never created or is already gone; the original error is what matters.
    }
    throw error;
  }
}
