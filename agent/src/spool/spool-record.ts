import { emotionEventSchema, type EmotionEvent } from '@emofleet/protocol';
import { crc32 } from './crc32';

/** Every record: payload length (u32 LE), CRC-32 of the payload (u32 LE), then the payload (JSON, UTF-8). */
export const RECORD_HEADER_BYTES = 8;

/** Far above any valid event; a larger length field means the header itself is damaged. */
export const MAX_RECORD_PAYLOAD_BYTES = 64 * 1024;

export function encodeSpoolRecord(event: EmotionEvent): Buffer {
  const payload = Buffer.from(JSON.stringify(event), 'utf8');
  if (payload.length > MAX_RECORD_PAYLOAD_BYTES) {
    throw new RangeError(`event seq ${event.seq} encodes to ${payload.length} bytes, over the record limit`);
  }
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32(payload), 4);
  payload.copy(record, RECORD_HEADER_BYTES);
  return record;
}

export type DecodedRecords =
  | { readonly complete: true; readonly events: EmotionEvent[]; readonly validBytes: number }
  | {
      readonly complete: false;
      readonly events: EmotionEvent[];
      /** Offset of the first byte that is not part of a whole, valid record. */
      readonly validBytes: number;
      readonly problem: string;
    };

/**
 * Decodes consecutive records from `bytes` (a segment file from its start, or from a record boundary). Stops at
 * the first record that is cut short, fails its CRC, is not a valid event or breaks the `seq + 1` chain.
 */
export function decodeSpoolRecords(bytes: Buffer, expectedFirstSeq: number): DecodedRecords {
  const events: EmotionEvent[] = [];
  let offset = 0;
  let expectedSeq = expectedFirstSeq;
  const stop = (problem: string): DecodedRecords => ({
    complete: false,
    events,
    validBytes: offset,
    problem,
  });
  while (offset < bytes.length) {
    if (bytes.length - offset < RECORD_HEADER_BYTES) return stop('record header cut short');
    const length = bytes.readUInt32LE(offset);
    if (length === 0 || length > MAX_RECORD_PAYLOAD_BYTES) return stop(`implausible record length ${length}`);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > bytes.length) return stop(`record of ${length} bytes cut short`);
    const payload = bytes.subarray(offset + RECORD_HEADER_BYTES, end);
    if (crc32(payload) !== bytes.readUInt32LE(offset + 4)) return stop('CRC mismatch');
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      return stop('payload is not JSON');
    }
    const event = emotionEventSchema.safeParse(parsed);
    if (!event.success) return stop('payload is not a valid emotion event');
    if (event.data.seq !== expectedSeq)
      return stop(`seq ${event.data.seq} where ${expectedSeq} was expected`);
    events.push(event.data);
    expectedSeq += 1;
    offset = end;
  }
  return { complete: true, events, validBytes: offset };
}

/**
 * After a corrupt record, the highest seq among the intact records behind it (found by following the length
 * fields), or undefined. Those records are not kept, but their numbers may have been published: the spool
 * declares them lost rather than hand them out again.
 */
export function highestSeqBehindCorruption(bytes: Buffer, corruptOffset: number): number | undefined {
  let highest: number | undefined;
  let offset = corruptOffset;
  while (bytes.length - offset >= RECORD_HEADER_BYTES) {
    const length = bytes.readUInt32LE(offset);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (length === 0 || length > MAX_RECORD_PAYLOAD_BYTES || end > bytes.length) break;
    const payload = bytes.subarray(offset + RECORD_HEADER_BYTES, end);
    if (crc32(payload) === bytes.readUInt32LE(offset + 4)) {
      try {
        const seq = (JSON.parse(payload.toString('utf8')) as { seq?: unknown }).seq;
        if (typeof seq === 'number' && Number.isSafeInteger(seq)) highest = Math.max(highest ?? 0, seq);
      } catch {
        // Not an event: ignore.
      }
    }
    offset = end;
  }
  return highest;
}
