import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  emotionEventSchema,
  formatIssues,
  type EmotionEvent,
  type LostSequenceRange,
} from '@emofleet/protocol';
import { type Logger } from '../logger';
import { addSequenceRange, rangesAbove } from './sequence-ranges';
import { decodeSpoolRecords, encodeSpoolRecord, highestSeqBehindCorruption } from './spool-record';
import { fsyncDirectory, SpoolStateFile, type SpoolState } from './spool-state-file';

/** An event as the tracker produces it; the spool assigns its `seq`. */
export type NewEmotionEvent = Omit<EmotionEvent, 'seq'>;

/**
 * When appended records reach the disk. `every-append`: `append` returns after fdatasync (nothing returned is
 * ever lost, even to a power cut; one sync per event). `interval`: synced every `intervalMs`; a power cut may
 * lose the last interval, a process crash loses nothing (the page cache survives it). Either way only synced
 * records are handed to the publisher, so a seq the control plane has seen is never reused.
 */
export type FsyncPolicy =
  | { readonly mode: 'every-append' }
  | { readonly mode: 'interval'; readonly intervalMs: number };

export interface EventSpoolOptions {
  /** Directory of the segment files and the state file (created when missing). */
  readonly directory: string;
  /** Bound on the segment files' total size; the oldest segment is dropped (and declared lost) to stay under it. */
  readonly maxBytes: number;
  /** A segment file is closed and a new one started when the next record would pass this size. */
  readonly segmentBytes: number;
  readonly fsync: FsyncPolicy;
  readonly logger: Logger;
  /**
   * Events kept in memory while they cannot be written (a full disk): they have their seq and are written, in
   * order, as soon as the disk takes them again (retried on every append and every `retryIntervalMs`). Past this
   * many, the oldest are dropped and declared lost like an overflow. Default 1000.
   */
  readonly memoryBufferEvents?: number;
  /** How often writing the events kept in memory is retried. Default 1000 ms. */
  readonly retryIntervalMs?: number;
}

export interface SpoolStats {
  /** Events stored and not yet acknowledged. */
  readonly depth: number;
  readonly droppedTotal: number;
  /** Events with a seq that could not be written yet (full disk), kept in memory; not counted in `depth`. */
  readonly unwritten: number;
  readonly acknowledgedSeq: number;
  /** The seq the next appended event gets. */
  readonly nextSeq: number;
  readonly bytes: number;
  readonly segments: number;
}

interface Segment {
  readonly filePath: string;
  readonly firstSeq: number;
  /** `firstSeq - 1` while empty. */
  lastSeq: number;
  bytes: number;
}

const SEGMENT_NAME = /^events-(\d{16})\.seg$/;

function segmentFileName(firstSeq: number): string {
  return `events-${String(firstSeq).padStart(16, '0')}.seg`;
}

/**
 * The durable, bounded event spool: an append-only log of segment files (`events-<first seq>.seg`) whose records
 * carry length + CRC-32, plus a small state file (acknowledged seq, dropped count, undeclared lost ranges).
 *
 * - Sequence numbers start at 1, grow by one per event and are never reused, across restarts and even after all
 *   segments were deleted (the highest assigned seq is kept in the state file).
 * - On open, a torn or corrupt tail (crash mid-write) is detected by length + CRC + seq chain and truncated.
 * - Events are deleted only when acknowledged (whole segments whose last seq is acknowledged).
 * - When full, the oldest segment is dropped: its unacknowledged events are counted and kept as lost ranges
 *   to declare in the next batch, written to the state file before the segment is deleted.
 * - When a write fails (ENOSPC on a full disk, EIO), the event keeps its seq and waits in memory, bounded by
 *   `memoryBufferEvents`; the oldest beyond the bound are dropped and declared lost, so an event is either
 *   delivered or declared, never silently missing. Only events written (and synced) are published.
 *
 * File operations are synchronous: appends are small and rare (debounced events), and a synchronous append
 * keeps the order of writes, syncs and acknowledgements obvious.
 */
export class EventSpool {
  private readonly stateFile: SpoolStateFile;
  private readonly segments: Segment[] = [];
  private readonly durableListeners = new Set<() => void>();
  private activeFd: number | undefined;
  private nextSeq = 1;
  /** Highest seq known to be on disk; only these are handed out by `readFrom`. */
  private durableSeq = 0;
  /** Highest seq written to a segment (or acknowledged); `durableSeq` follows it once synced. */
  private writtenSeq = 0;
  /** Events with a seq that could not be written yet, in seq order (their seqs follow `writtenSeq`). */
  private readonly unwritten: EmotionEvent[] = [];
  /** Ranges dropped from `unwritten` (buffer full) whose loss is not yet in the state file. */
  private unrecordedLost: LostSequenceRange[] = [];
  private writeError: unknown;
  private retryTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private readCache: { filePath: string; bytesRead: number; events: EmotionEvent[] } | undefined;
  private closed = false;

  private constructor(
    private readonly options: EventSpoolOptions,
    private state: SpoolState,
  ) {
    this.stateFile = new SpoolStateFile(path.join(options.directory, 'spool-state.json'));
  }

  /** Opens (or creates) the spool in `options.directory`, repairing a torn tail. */
  static open(options: EventSpoolOptions): EventSpool {
    if (!(options.segmentBytes >= 4096 && options.maxBytes >= 2 * options.segmentBytes)) {
      throw new RangeError(
        `spool sizes: segmentBytes (${options.segmentBytes}) must be >= 4096 and maxBytes (${options.maxBytes}) >= 2 x segmentBytes`,
      );
    }
    if (options.fsync.mode === 'interval' && !(options.fsync.intervalMs >= 1)) {
      throw new RangeError(`spool fsync interval must be >= 1 ms, got ${options.fsync.intervalMs}`);
    }
    fs.mkdirSync(options.directory, { recursive: true, mode: 0o700 });
    const stateFile = new SpoolStateFile(path.join(options.directory, 'spool-state.json'));
    const spool = new EventSpool(options, stateFile.read());
    spool.recover();
    if (options.fsync.mode === 'interval') {
      spool.syncTimer = setInterval(() => {
        try {
          spool.sync();
        } catch (error) {
          options.logger.warn('event spool sync failed; retried on the next interval', { error });
        }
      }, options.fsync.intervalMs);
      spool.syncTimer.unref();
    }
    return spool;
  }

  get stats(): SpoolStats {
    const from = this.state.acknowledgedSeq + 1;
    let depth = 0;
    let bytes = 0;
    for (const segment of this.segments) {
      depth += Math.max(0, segment.lastSeq - Math.max(segment.firstSeq, from) + 1);
      bytes += segment.bytes;
    }
    return {
      depth,
      droppedTotal: this.state.droppedTotal,
      unwritten: this.unwritten.length,
      acknowledgedSeq: this.state.acknowledgedSeq,
      nextSeq: this.nextSeq,
      bytes,
      segments: this.segments.length,
    };
  }

  /** Dropped ranges not yet covered by an acknowledgement: what the next batch must declare. */
  get lostRanges(): readonly LostSequenceRange[] {
    return this.state.lost;
  }

  /** Calls `listener` whenever newly appended events became durable (and so publishable). */
  onDurable(listener: () => void): () => void {
    this.durableListeners.add(listener);
    return () => this.durableListeners.delete(listener);
  }

  /**
   * Gives the event the next seq, stores it and returns it with that seq. Throws for an invalid event (no seq is
   * used). When the disk refuses the write, the event is kept in memory and written later (see the class).
   */
  append(event: NewEmotionEvent): EmotionEvent {
    this.assertOpen();
    const valid = emotionEventSchema.safeParse({ ...event, seq: this.nextSeq });
    if (!valid.success) {
      throw new TypeError(`cannot spool an invalid event: ${formatIssues(valid.error.issues, 'event')}`);
    }
    this.nextSeq += 1;
    this.unwritten.push(valid.data);
    this.writeUnwritten();
    return valid.data;
  }

  /**
   * Writes the events waiting in memory (first recording the loss of those dropped from it). On a failure they
   * stay in memory, the oldest beyond `memoryBufferEvents` are dropped, and a timer retries.
   */
  private writeUnwritten(): void {
    const waiting = this.unwritten.length;
    try {
      if (this.unrecordedLost.length > 0) {
        const count = this.unrecordedLost.reduce((sum, range) => sum + range.toSeq - range.fromSeq + 1, 0);
        this.writeState({
          ...this.state,
          lost: this.unrecordedLost.reduce(
            (ranges, range) => addSequenceRange(ranges, range),
            this.state.lost,
          ),
          droppedTotal: this.state.droppedTotal + count,
        });
        this.unrecordedLost = [];
      }
      for (let event = this.unwritten[0]; event !== undefined; event = this.unwritten[0]) {
        this.writeRecord(event);
        this.unwritten.shift();
        this.dirty = true;
      }
      if (this.options.fsync.mode === 'every-append') this.sync();
    } catch (error) {
      this.keepInMemory(error);
      return;
    }
    if (this.writeError !== undefined) {
      // At the level of the warning it ends, so that whoever saw the one sees the other.
      this.options.logger.warn('event spool writable again; the events kept in memory are written', {
        eventsWritten: waiting,
        writtenSeq: this.writtenSeq,
      });
      this.writeError = undefined;
    }
    if (this.retryTimer !== undefined) clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }

  private keepInMemory(error: unknown): void {
    const limit = this.options.memoryBufferEvents ?? 1000;
    const excess = this.unwritten.length - limit;
    if (excess > 0) {
      const dropped = this.unwritten.splice(0, excess);
      const range = {
        fromSeq: (dropped[0] as EmotionEvent).seq,
        toSeq: (dropped[excess - 1] as EmotionEvent).seq,
      };
      this.unrecordedLost = addSequenceRange(this.unrecordedLost, range);
      this.options.logger.warn('events kept in memory past the bound: dropped the oldest, to declare lost', {
        ...range,
        memoryBufferEvents: limit,
      });
    }
    if (this.writeError === undefined) {
      this.options.logger.warn('cannot write the event spool; keeping events in memory and retrying', {
        directory: this.options.directory,
        error,
        unwritten: this.unwritten.length,
      });
    }
    this.writeError = error;
    if (this.retryTimer === undefined) {
      this.retryTimer = setInterval(() => this.writeUnwritten(), this.options.retryIntervalMs ?? 1000);
      this.retryTimer.unref();
    }
  }

  /** Appends one record at the end of the active segment (a new segment when full or after a dropped range). */
  private writeRecord(event: EmotionEvent): void {
    const record = encodeSpoolRecord(event);
    let active = this.segments[this.segments.length - 1];
    if (
      active === undefined ||
      this.activeFd === undefined ||
      active.lastSeq !== event.seq - 1 ||
      active.bytes + record.length > this.options.segmentBytes
    ) {
      active = this.startSegment(event.seq);
    }
    while (this.stats.bytes + record.length > this.options.maxBytes && this.segments.length > 1) {
      this.dropOldestSegment();
    }
    appendRecord(this.activeFd as number, record, active.bytes);
    active.lastSeq = event.seq;
    active.bytes += record.length;
    this.writtenSeq = event.seq;
  }

  /** Syncs appended records to disk now (the interval policy calls this on its timer). */
  sync(): void {
    if (!this.dirty || this.activeFd === undefined) return;
    fs.fdatasyncSync(this.activeFd);
    this.markDurable();
  }

  /** Up to `maxEvents` durable, unacknowledged events with `seq >= fromSeq`, in seq order. */
  readFrom(fromSeq: number, maxEvents: number): EmotionEvent[] {
    this.assertOpen();
    const from = Math.max(fromSeq, this.state.acknowledgedSeq + 1);
    const events: EmotionEvent[] = [];
    for (const segment of this.segments) {
      if (events.length >= maxEvents) break;
      if (segment.lastSeq < from || segment.firstSeq > this.durableSeq) continue;
      for (const event of this.segmentEvents(segment)) {
        if (event.seq < from) continue;
        if (event.seq > this.durableSeq || events.length >= maxEvents) break;
        events.push(event);
      }
    }
    return events;
  }

  /**
   * The control plane stored everything up to `highestContiguousSeq`: delete those events. Lower or equal acks
   * are ignored (acks are monotonic; retained ones are replayed). An ack at or above the next seq means this
   * spool was lost or reset while the control plane kept its events: numbering continues above it.
   * Returns whether the acknowledgement advanced.
   */
  acknowledge(highestContiguousSeq: number): boolean {
    this.assertOpen();
    if (highestContiguousSeq <= this.state.acknowledgedSeq) return false;
    if (highestContiguousSeq >= this.nextSeq) {
      this.options.logger.warn('acknowledgement above every local seq: continuing the numbering above it', {
        acknowledgedSeq: highestContiguousSeq,
        nextSeq: this.nextSeq,
      });
      this.nextSeq = highestContiguousSeq + 1;
      this.writtenSeq = Math.max(this.writtenSeq, highestContiguousSeq);
      this.durableSeq = Math.max(this.durableSeq, highestContiguousSeq);
    }
    this.unrecordedLost = rangesAbove(this.unrecordedLost, highestContiguousSeq);
    try {
      this.writeState({
        ...this.state,
        acknowledgedSeq: highestContiguousSeq,
        lost: rangesAbove(this.state.lost, highestContiguousSeq),
      });
    } catch (error) {
      // Not applied (nothing deleted); the next acknowledgement or a re-sent batch brings it again.
      this.options.logger.warn('cannot record the acknowledgement in the spool state; ignoring it for now', {
        acknowledgedSeq: highestContiguousSeq,
        error,
      });
      return false;
    }
    // A spool reset under a control plane that holds more: events still in memory at or below the ack are held.
    while (this.unwritten[0] !== undefined && this.unwritten[0].seq <= highestContiguousSeq)
      this.unwritten.shift();
    let deleted = false;
    while (this.segments[0] !== undefined && this.segments[0].lastSeq <= highestContiguousSeq) {
      this.deleteOldestSegment();
      deleted = true;
    }
    if (deleted) fsyncDirectory(this.options.directory);
    return true;
  }

  close(): void {
    if (this.closed) return;
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    if (this.unwritten.length > 0 || this.unrecordedLost.length > 0) this.writeUnwritten();
    if (this.retryTimer !== undefined) clearInterval(this.retryTimer);
    const first = this.unwritten[0];
    if (first !== undefined) {
      // Never written nor published. The next process declares their seqs lost when the state file recorded
      // them (`highestAssignedSeq`), else it numbers new events from them (no one saw these).
      this.options.logger.error('closing the event spool with events it could not write: they are lost', {
        fromSeq: first.seq,
        toSeq: this.nextSeq - 1,
        error: this.writeError,
      });
    }
    this.sync();
    if (this.activeFd !== undefined) fs.closeSync(this.activeFd);
    this.activeFd = undefined;
    this.closed = true;
  }

  private recover(): void {
    const names = fs
      .readdirSync(this.options.directory)
      .filter((name) => SEGMENT_NAME.test(name))
      .sort();
    let highestSeqOnDisk = 0;
    for (const name of names) {
      const filePath = path.join(this.options.directory, name);
      const firstSeq = Number(SEGMENT_NAME.exec(name)?.[1]);
      const bytes = fs.readFileSync(filePath);
      const decoded = decodeSpoolRecords(bytes, firstSeq);
      if (!decoded.complete) {
        highestSeqOnDisk = Math.max(
          highestSeqOnDisk,
          highestSeqBehindCorruption(bytes, decoded.validBytes) ?? 0,
        );
        this.options.logger.warn('spool segment has a torn or corrupt record; truncating it there', {
          file: filePath,
          byteOffset: decoded.validBytes,
          problem: decoded.problem,
          bytesDiscarded: bytes.length - decoded.validBytes,
        });
        const fd = fs.openSync(filePath, 'r+');
        try {
          fs.ftruncateSync(fd, decoded.validBytes);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      }
      const lastSeq = firstSeq + decoded.events.length - 1;
      highestSeqOnDisk = Math.max(highestSeqOnDisk, lastSeq);
      if (decoded.events.length === 0 || lastSeq <= this.state.acknowledgedSeq) {
        fs.unlinkSync(filePath);
        continue;
      }
      this.segments.push({ filePath, firstSeq, lastSeq, bytes: decoded.validBytes });
    }
    fsyncDirectory(this.options.directory);
    const lastSegment = this.segments[this.segments.length - 1];
    const highestLost = this.state.lost.reduce((max, range) => Math.max(max, range.toSeq), 0);
    const highest = Math.max(
      this.state.highestAssignedSeq,
      this.state.acknowledgedSeq,
      highestLost,
      highestSeqOnDisk,
    );
    this.declareGapsAsLost(highest);
    this.nextSeq = highest + 1;
    this.writtenSeq = highest;
    this.durableSeq = highest;
    if (lastSegment !== undefined && lastSegment.bytes < this.options.segmentBytes) {
      this.activeFd = fs.openSync(lastSegment.filePath, 'a');
      fs.fsyncSync(this.activeFd);
    }
  }

  /**
   * Seqs between the acknowledgement and the highest assigned seq that are neither in a segment nor already
   * declared lost were destroyed (a corrupt segment, files removed by hand): count and declare them too.
   */
  private declareGapsAsLost(highestAssignedSeq: number): void {
    const present: LostSequenceRange[] = [
      ...this.state.lost,
      ...this.segments.map((s) => ({ fromSeq: s.firstSeq, toSeq: s.lastSeq })),
    ].reduce<LostSequenceRange[]>((ranges, range) => addSequenceRange(ranges, range), []);
    let lost = this.state.lost;
    let missing = 0;
    let expected = this.state.acknowledgedSeq + 1;
    for (const range of [...present, { fromSeq: highestAssignedSeq + 1, toSeq: highestAssignedSeq + 1 }]) {
      if (range.toSeq < expected) continue;
      if (range.fromSeq > expected) {
        const gap = { fromSeq: expected, toSeq: range.fromSeq - 1 };
        lost = addSequenceRange(lost, gap);
        missing += gap.toSeq - gap.fromSeq + 1;
      }
      expected = range.toSeq + 1;
    }
    if (missing === 0) return;
    this.options.logger.warn('spool events missing on disk; declaring them lost', { missing, lost });
    this.writeState({ ...this.state, lost, droppedTotal: this.state.droppedTotal + missing });
  }

  private startSegment(firstSeq: number): Segment {
    if (this.activeFd !== undefined) {
      fs.fsyncSync(this.activeFd);
      fs.closeSync(this.activeFd);
      this.activeFd = undefined;
      this.markDurable();
    }
    const segment: Segment = {
      filePath: path.join(this.options.directory, segmentFileName(firstSeq)),
      firstSeq,
      lastSeq: firstSeq - 1,
      bytes: 0,
    };
    this.activeFd = fs.openSync(segment.filePath, 'wx', 0o600);
    // Listed before the directory sync, which may fail on a full disk: the empty segment is then reused.
    this.segments.push(segment);
    fsyncDirectory(this.options.directory);
    return segment;
  }

  private dropOldestSegment(): void {
    const oldest = this.segments[0] as Segment;
    const fromSeq = Math.max(oldest.firstSeq, this.state.acknowledgedSeq + 1);
    const count = oldest.lastSeq - fromSeq + 1;
    if (count > 0) {
      const range = { fromSeq, toSeq: oldest.lastSeq };
      this.writeState({
        ...this.state,
        lost: addSequenceRange(this.state.lost, range),
        droppedTotal: this.state.droppedTotal + count,
      });
      this.options.logger.warn('event spool full: dropped the oldest unacknowledged events', {
        ...range,
        droppedTotal: this.state.droppedTotal,
      });
    }
    this.deleteOldestSegment();
    fsyncDirectory(this.options.directory);
  }

  private deleteOldestSegment(): void {
    const oldest = this.segments.shift() as Segment;
    if (this.segments.length === 0 && this.activeFd !== undefined) {
      fs.closeSync(this.activeFd);
      this.activeFd = undefined;
    }
    if (this.readCache?.filePath === oldest.filePath) this.readCache = undefined;
    fs.unlinkSync(oldest.filePath);
  }

  /** Replaces the state on disk, then in memory (a write refused by a full disk changes neither). */
  private writeState(state: SpoolState): void {
    const next = { ...state, highestAssignedSeq: Math.max(state.highestAssignedSeq, this.nextSeq - 1) };
    this.stateFile.write(next);
    this.state = next;
  }

  /** The segment's events, read incrementally (appends only grow the active segment). */
  private segmentEvents(segment: Segment): EmotionEvent[] {
    let cache = this.readCache;
    if (cache === undefined || cache.filePath !== segment.filePath || cache.bytesRead > segment.bytes) {
      cache = { filePath: segment.filePath, bytesRead: 0, events: [] };
      this.readCache = cache;
    }
    if (cache.bytesRead < segment.bytes) {
      const tail = Buffer.allocUnsafe(segment.bytes - cache.bytesRead);
      const fd = fs.openSync(segment.filePath, 'r');
      try {
        readFully(fd, tail, cache.bytesRead);
      } finally {
        fs.closeSync(fd);
      }
      const lastCached = cache.events[cache.events.length - 1];
      const decoded = decodeSpoolRecords(
        tail,
        lastCached === undefined ? segment.firstSeq : lastCached.seq + 1,
      );
      if (!decoded.complete) {
        throw new Error(
          `${segment.filePath}: ${decoded.problem} at byte ${cache.bytesRead + decoded.validBytes} of a record this process wrote`,
        );
      }
      cache.events.push(...decoded.events);
      cache.bytesRead = segment.bytes;
    }
    return cache.events;
  }

  private markDurable(): void {
    this.dirty = false;
    const highest = this.writtenSeq;
    if (highest <= this.durableSeq) return;
    this.durableSeq = highest;
    for (const listener of this.durableListeners) listener();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`event spool ${this.options.directory} is closed`);
  }
}

/**
 * Writes `record` at `position` (the segment's end). A write that fails part-way (ENOSPC on a full disk, EIO)
 * is undone by truncating the file back to `position` before the error is rethrown: otherwise the next record
 * would follow a torn one and the reader would find a corrupt record in the middle of the segment (and recovery
 * would discard every record after it).
 */
function appendRecord(fd: number, record: Buffer, position: number): void {
  let offset = 0;
  try {
    while (offset < record.length) {
      offset += fs.writeSync(fd, record, offset, record.length - offset, position + offset);
    }
  } catch (error) {
    if (offset > 0) fs.ftruncateSync(fd, position);
    throw error;
  }
}

function readFully(fd: number, into: Buffer, position: number): void {
  let offset = 0;
  while (offset < into.length) {
    const read = fs.readSync(fd, into, offset, into.length - offset, position + offset);
    if (read === 0) throw new Error(`unexpected end of file at byte ${position + offset}`);
    offset += read;
  }
}
