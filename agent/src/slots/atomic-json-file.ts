import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes JSON so a crash leaves the old or the new content, never a mix: temp file, fsync, rename, fsync dir. */
export function writeJsonAtomically(filePath: string, value: unknown, mode = 0o600): void {
  const temporary = `${filePath}.tmp`;
  const fd = fs.openSync(temporary, 'w', mode);
  try {
    fs.writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, filePath);
  const directory = fs.openSync(path.dirname(filePath), 'r');
  try {
    fs.fsyncSync(directory);
  } finally {
    fs.closeSync(directory);
  }
}

/** The parsed JSON of `filePath`, or undefined when it does not exist. Throws naming the file otherwise. */
export function readJsonFile(filePath: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${filePath}: not JSON (${(error as Error).message})`);
  }
}
