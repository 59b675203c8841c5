import { type DecodeResult, type RejectionReason } from './codec';
import { type MessageKind } from './message-kinds';

/** Kind label used for rejections whose topic did not name a kind. */
export const UNKNOWN_KIND = 'unknown';

export interface RejectionCounts {
  readonly total: number;
  readonly byReason: Readonly<Partial<Record<RejectionReason, number>>>;
  readonly byKind: Readonly<Partial<Record<MessageKind | typeof UNKNOWN_KIND, number>>>;
  /** `"<kind>/<reason>"` → count, e.g. `"events/schema-violation"`. */
  readonly byKindAndReason: Readonly<Record<string, number>>;
}

/** Counts rejected messages by reason and kind, for receivers' logs and metrics. */
export class RejectionCounter {
  private total = 0;
  private readonly byReason = new Map<RejectionReason, number>();
  private readonly byKind = new Map<MessageKind | typeof UNKNOWN_KIND, number>();
  private readonly byKindAndReason = new Map<string, number>();

  /** Counts `result` when it is a rejection; returns whether it was one. */
  record(result: DecodeResult): result is Extract<DecodeResult, { ok: false }> {
    if (result.ok) return false;
    const kind = result.kind ?? UNKNOWN_KIND;
    this.total += 1;
    increment(this.byReason, result.reason);
    increment(this.byKind, kind);
    increment(this.byKindAndReason, `${kind}/${result.reason}`);
    return true;
  }

  count(filter: { reason?: RejectionReason; kind?: MessageKind | typeof UNKNOWN_KIND } = {}): number {
    if (filter.reason !== undefined && filter.kind !== undefined) {
      return this.byKindAndReason.get(`${filter.kind}/${filter.reason}`) ?? 0;
    }
    if (filter.reason !== undefined) return this.byReason.get(filter.reason) ?? 0;
    if (filter.kind !== undefined) return this.byKind.get(filter.kind) ?? 0;
    return this.total;
  }

  snapshot(): RejectionCounts {
    return {
      total: this.total,
      byReason: Object.fromEntries(this.byReason),
      byKind: Object.fromEntries(this.byKind),
      byKindAndReason: Object.fromEntries(this.byKindAndReason),
    };
  }

  reset(): void {
    this.total = 0;
    this.byReason.clear();
    this.byKind.clear();
    this.byKindAndReason.clear();
  }
}

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
