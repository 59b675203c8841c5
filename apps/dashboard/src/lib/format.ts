const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

/** 15,776,717 → "15.8M"; null/undefined → "–". */
export function formatCompact(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : compact.format(value);
}

/** A number with `digits` decimals, or "–". */
export function formatFixed(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** 0.873 → "87.3 %". */
export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  return fraction === null || fraction === undefined ? '–' : `${(fraction * 100).toFixed(digits)} %`;
}

/** How long ago `iso` was, seen from `now` (ms): "4 s ago", "3 min ago", "2 h ago", "5 d ago". */
export function formatAgo(iso: string | null | undefined, now: number): string {
  if (iso === null || iso === undefined) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** A local date and time without seconds' fractions. */
export function formatDateTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '–';
  return new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** A local time of day (for feeds). */
export function formatTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour12: false });
}

/** Tags as `k=v` pairs, in key order. */
export function formatTags(tags: Readonly<Record<string, string>>): string {
  return Object.keys(tags)
    .sort()
    .map((key) => `${key}=${tags[key] ?? ''}`)
    .join(' ');
}

/** `{ modelId, version }` → "modelId@version", null → "none". */
export function formatModelRef(model: { modelId: string; version: string } | null): string {
  return model === null ? 'none' : `${model.modelId}@${model.version}`;
}
