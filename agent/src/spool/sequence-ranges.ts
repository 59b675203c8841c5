import { type LostSequenceRange } from '@emofleet/protocol';

/** Adds `range` to sorted, non-overlapping `ranges`, merging neighbours (e.g. 1-5 and 6-9 become 1-9). */
export function addSequenceRange(
  ranges: readonly LostSequenceRange[],
  range: LostSequenceRange,
): LostSequenceRange[] {
  const all = [...ranges, range].sort((a, b) => a.fromSeq - b.fromSeq);
  const merged: LostSequenceRange[] = [];
  for (const next of all) {
    const last = merged[merged.length - 1];
    if (last !== undefined && next.fromSeq <= last.toSeq + 1) {
      merged[merged.length - 1] = { fromSeq: last.fromSeq, toSeq: Math.max(last.toSeq, next.toSeq) };
    } else {
      merged.push({ ...next });
    }
  }
  return merged;
}

/** The part of `ranges` above `acknowledgedSeq`. */
export function rangesAbove(
  ranges: readonly LostSequenceRange[],
  acknowledgedSeq: number,
): LostSequenceRange[] {
  return ranges
    .filter((range) => range.toSeq > acknowledgedSeq)
    .map((range) => ({ fromSeq: Math.max(range.fromSeq, acknowledgedSeq + 1), toSeq: range.toSeq }));
}
