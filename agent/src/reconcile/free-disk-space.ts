import { execFile } from 'node:child_process';

/**
 * Bytes available to this user on the file system holding `directory`, from `df -Pk` (Node 16 has no
 * `fs.statfs`). POSIX output: the 4th column of the second line is the available space in KiB.
 */
export function freeDiskBytes(directory: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('df', ['-Pk', directory], { encoding: 'utf8' }, (error, stdout) => {
      if (error !== null) {
        reject(new Error(`cannot read the free space of ${directory}: ${error.message}`));
        return;
      }
      const available = Number(stdout.trim().split('\n')[1]?.trim().split(/\s+/)[3]);
      if (!Number.isFinite(available))
        reject(new Error(`cannot parse df output for ${directory}: ${stdout}`));
      else resolve(available * 1024);
    });
  });
}
