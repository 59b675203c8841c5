import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIBFAKETIME_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
];

/**
 * A wall clock that can jump, for one process: libfaketime (Debian package `faketime`) preloaded, reading its
 * offset from a file on every call. Only the real-time clock moves; the monotonic clock (timers, intervals)
 * runs on, as when NTP steps a device's clock.
 */
export class FakeClock {
  private constructor(
    private readonly directory: string,
    private readonly library: string,
  ) {}

  static create(): FakeClock {
    const library = LIBFAKETIME_CANDIDATES.find((candidate) => existsSync(candidate));
    if (library === undefined) throw new Error('libfaketime is not installed: apt install faketime');
    const clock = new FakeClock(mkdtempSync(join(tmpdir(), 'emofleet-faults-clock-')), library);
    clock.setOffsetSeconds(0);
    return clock;
  }

  private get offsetFile(): string {
    return join(this.directory, 'offset');
  }

  /** The environment that puts a process on this clock. */
  get environment(): Record<string, string> {
    return {
      LD_PRELOAD: this.library,
      FAKETIME_TIMESTAMP_FILE: this.offsetFile,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }

  /** Moves the process's wall clock to real time + `seconds` (negative: back). */
  setOffsetSeconds(seconds: number): void {
    writeFileSync(this.offsetFile, `${seconds >= 0 ? '+' : ''}${seconds}\n`);
  }

  dispose(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }
}
